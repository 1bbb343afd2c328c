#include "semifer/train/thresholds.h"

#include <torch/torch.h>

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
  const auto c = static_cast<int64_t>(tau_.size());
  SEMIFER_CHECK(probs.dim() == 2 && probs.size(1) == c && labels.dim() == 1 &&
                    labels.size(0) == probs.size(0),
                "DTM update: expected probs [N, ", c, "] and labels [N]");
  torch::NoGradGuard no_grad;
  const auto p = probs.to(torch::kCPU, torch::kFloat64);
  const auto y = labels.to(torch::kCPU, torch::kInt64);
  const auto pred = p.argmax(1);
  const auto correct = pred.eq(y);
  // Confidence of the correct class of each correctly predicted sample.
  const auto conf = p.gather(1, y.unsqueeze(1)).squeeze(1);
  Update u;
  u.mean_confidence.assign(static_cast<size_t>(c), -1.0);
  u.correct.assign(static_cast<size_t>(c), 0);
  for (int64_t k = 0; k < c; ++k) {
    const auto sel = correct.logical_and(y.eq(k));
    const int64_t n = sel.sum().item<int64_t>();
    u.correct[k] = n;
    if (n == 0) continue;
    u.mean_confidence[k] = conf.masked_select(sel).mean().item<double>();
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
