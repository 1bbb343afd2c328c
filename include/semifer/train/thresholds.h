#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace semifer::train {

/// The Dynamic Threshold Module (paper section 3.3, equations 6-8).
///
/// At the end of each epoch the EMA teacher predicts the labeled set; for
/// class c, tau_c is the mean confidence of the correctly predicted samples
/// of class c (equation 7), and the threshold moves towards it:
///   tau_c(t) = mu * tau_c(t - 1) + (1 - mu) * tau_c       (equation 8).
/// A class with no correct prediction keeps its previous threshold. With
/// `dynamic` false the thresholds stay at `initial` (the paper's fixed-
/// threshold ablation).
class DynamicThresholds {
 public:
  DynamicThresholds(int num_classes, double initial = 0.95, double mu = 0.9,
                    bool dynamic = true);

  /// Per-class thresholds, [num_classes].
  const std::vector<double>& tau() const { return tau_; }
  /// The thresholds as a float tensor on `device`, for masking.
  at::Tensor tau_tensor(const at::Device& device) const;

  /// What one update measured, for metrics.jsonl.
  struct Update {
    std::vector<double> mean_confidence;  ///< tau_c of equation 7; -1: none
    std::vector<int64_t> correct;         ///< N_c
  };
  /// Updates from the teacher's probabilities on labeled samples:
  /// `probs` [N, C] (rows sum to 1), `labels` [N] int64. Equals
  /// apply(measure(probs, labels)).
  Update update(const at::Tensor& probs, const at::Tensor& labels);

  /// Equation 7's sums: per class, the confidence summed over the correctly
  /// predicted samples and their count, as a [2, C] float64 CPU tensor (a
  /// data-parallel run adds the ranks' before apply()).
  at::Tensor measure(const at::Tensor& probs, const at::Tensor& labels) const;
  /// Moves the thresholds by measure()'s sums (equations 7-8).
  Update apply(const at::Tensor& sums);

  /// For checkpoints.
  void set_tau(std::vector<double> tau);
  bool dynamic() const { return dynamic_; }

 private:
  std::vector<double> tau_;
  double mu_;
  bool dynamic_;
};

}  // namespace semifer::train
