#include "semifer/infer/metrics.h"

#include "semifer/util/error.h"

namespace semifer::infer {

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : n_(num_classes), m_(static_cast<size_t>(num_classes) * num_classes, 0) {
  SEMIFER_CHECK(num_classes > 0, "a confusion matrix needs at least one class");
}

void ConfusionMatrix::add(int label, int prediction, int64_t count) {
  SEMIFER_CHECK(label >= 0 && label < n_ && prediction >= 0 && prediction < n_,
                "class index out of range: label ", label, ", prediction ",
                prediction, " (", n_, " classes)");
  SEMIFER_CHECK(count >= 0, "a negative count ", count);
  m_[label * n_ + prediction] += count;
  total_ += count;
}

void ConfusionMatrix::add(const std::vector<int64_t>& labels,
                          const std::vector<int64_t>& predictions) {
  SEMIFER_CHECK(labels.size() == predictions.size(), "got ", labels.size(),
                " labels but ", predictions.size(), " predictions");
  for (size_t i = 0; i < labels.size(); ++i) {
    add(static_cast<int>(labels[i]), static_cast<int>(predictions[i]));
  }
}

double ConfusionMatrix::accuracy() const {
  if (total_ == 0) return 0.0;
  int64_t right = 0;
  for (int c = 0; c < n_; ++c) right += at(c, c);
  return static_cast<double>(right) / static_cast<double>(total_);
}

double ConfusionMatrix::precision(int c) const {
  int64_t predicted = 0;
  for (int r = 0; r < n_; ++r) predicted += at(r, c);
  return predicted == 0
             ? 0.0
             : static_cast<double>(at(c, c)) / static_cast<double>(predicted);
}

double ConfusionMatrix::recall(int c) const {
  int64_t actual = 0;
  for (int p = 0; p < n_; ++p) actual += at(c, p);
  return actual == 0
             ? 0.0
             : static_cast<double>(at(c, c)) / static_cast<double>(actual);
}

double ConfusionMatrix::f1(int c) const {
  const double p = precision(c), r = recall(c);
  return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

double ConfusionMatrix::macro_f1() const {
  double sum = 0;
  for (int c = 0; c < n_; ++c) sum += f1(c);
  return sum / n_;
}

std::vector<std::vector<int64_t>> ConfusionMatrix::rows() const {
  std::vector<std::vector<int64_t>> out(n_);
  for (int r = 0; r < n_; ++r)
    out[r].assign(m_.begin() + r * n_, m_.begin() + (r + 1) * n_);
  return out;
}

}  // namespace semifer::infer
