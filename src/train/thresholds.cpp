#include "semifer/train/thresholds.h"

#include <torch/torch.h>

#include <cmath>

#include "semifer/util/error.h"

namespace semifer::train {

DynamicThresholds::DynamicThresholds(int num_classes, double initial, double mu,
                                     bool dynamic)
    : tau_(static_cast<size_t>(num_classes), initial),
      mu_(mu),
      dynamic_(dynamic) {
  SEMIFER_CHECK(num_classes > 0, "thresholds need at least one class");
  SEMIFER_CHECK(initial >= 0.0 && initial <= 1.0,
                "initial threshold must lie in [0, 1], got ", initial);
  SEMIFER_CHECK(mu >= 0.0 && mu <= 1.0, "DTM mu must lie in [0, 1], got ", mu);
}

at::Tensor DynamicThresholds::tau_tensor(const at::Device& device) const {
  return torch::tensor(tau_, torch::kFloat64).to(device, torch::kFloat32);
}

DynamicThresholds::Update DynamicThresholds::update(const at::Tensor& probs,
                                                    const at::Tensor& labels) {
  return apply(measure(probs, labels));
}

at::Tensor DynamicThresholds::measure(const at::Tensor& probs,
                                      const at::Tensor& labels) const {
  const auto c = static_cast<int64_t>(tau_.size());
  SEMIFER_CHECK(probs.dim() == 2 && probs.size(1) == c && labels.dim() == 1 &&
                    labels.size(0) == probs.size(0),
                "DTM update: expected probs [N, ", c, "] and labels [N]");
  torch::NoGradGuard no_grad;
  const auto p = probs.to(torch::kCPU, torch::kFloat64);
  const auto y = labels.to(torch::kCPU, torch::kInt64);
  const auto correct = p.argmax(1).eq(y);
  // Confidence of the correct class of each correctly predicted sample.
  const auto conf = p.gather(1, y.unsqueeze(1)).squeeze(1);
  auto sums = torch::zeros({2, c}, torch::kFloat64);
  const auto kept = y.masked_select(correct);
  sums[0].index_add_(0, kept, conf.masked_select(correct));
  sums[1].index_add_(0, kept, torch::ones_like(kept, torch::kFloat64));
  return sums;
}

DynamicThresholds::Update DynamicThresholds::apply(const at::Tensor& sums) {
  const auto c = static_cast<int64_t>(tau_.size());
  SEMIFER_CHECK(sums.dim() == 2 && sums.size(0) == 2 && sums.size(1) == c,
                "DTM update: expected sums [2, ", c, "]");
  const auto s = sums.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto a = s.accessor<double, 2>();
  Update u;
  u.mean_confidence.assign(static_cast<size_t>(c), -1.0);
  u.correct.assign(static_cast<size_t>(c), 0);
  for (int64_t k = 0; k < c; ++k) {
    const auto n = static_cast<int64_t>(std::llround(a[1][k]));
    u.correct[k] = n;
    if (n == 0) continue;
    u.mean_confidence[k] = a[0][k] / static_cast<double>(n);
    if (dynamic_) tau_[k] = mu_ * tau_[k] + (1.0 - mu_) * u.mean_confidence[k];
  }
  return u;
}

void DynamicThresholds::set_tau(std::vector<double> tau) {
  SEMIFER_CHECK(tau.size() == tau_.size(), "checkpoint has ", tau.size(),
                " thresholds, the model ", tau_.size(), " classes");
  tau_ = std::move(tau);
}

}  // namespace semifer::train
