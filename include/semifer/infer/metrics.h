#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semifer::infer {

/// A confusion matrix over `num_classes` classes and the ABAW scores
/// computed from it (paper section 4.3, equations 13-14).
///
/// A class with no true and no predicted sample has precision, recall and
/// F1 of 0, as ABAW's scorer (scikit-learn's f1_score, average="macro",
/// zero_division at its default) gives; it still counts in the macro mean.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes);

  /// Counts one prediction (or `count` alike); both in [0, num_classes).
  void add(int label, int prediction, int64_t count = 1);
  /// Counts a batch: `labels` and `predictions` have the same length.
  void add(const std::vector<int64_t>& labels,
           const std::vector<int64_t>& predictions);

  int num_classes() const { return n_; }
  int64_t total() const { return total_; }
  /// Count of samples of class `label` predicted as `prediction`.
  int64_t at(int label, int prediction) const {
    return m_[label * n_ + prediction];
  }

  double accuracy() const;
  double precision(int c) const;
  double recall(int c) const;
  double f1(int c) const;
  /// Mean of the per-class F1 over all classes (ABAW's F1 score).
  double macro_f1() const;
  /// Rows are true classes, columns predictions.
  std::vector<std::vector<int64_t>> rows() const;

 private:
  int n_;
  int64_t total_ = 0;
  std::vector<int64_t> m_;
};

}  // namespace semifer::infer
