#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace semifer::train {

/// Which prediction of network A the unlabeled loss is applied to. The
/// paper's equation 11 names it ambiguously; the strong view's is the
/// default, as in FixMatch (docs/training.md).
enum class PseudoTarget { kStrong, kWeak };

/// The unlabeled half of the objective (paper equations 2-5 and 11).
struct UnlabeledLoss {
  at::Tensor loss;        ///< scalar: mean over the batch of mask * CE
  at::Tensor pseudo;      ///< [U] int64: argmax of (P_weak + P_strong) / 2
  at::Tensor confidence;  ///< [U]: max of (P_weak + P_strong) / 2
  at::Tensor mask;        ///< [U] float: confidence > tau[pseudo]
};

/// The weight of the unlabeled loss at step `step` (counted from 0): with
/// `warmup` > 0 it ramps up linearly, lambda * min(1, (step + 1) / warmup),
/// as MixMatch (Berthelot et al. 2019) ramps lambda_u so that early,
/// mostly wrong pseudo-labels weigh little; with `warmup` <= 0 it is
/// `lambda` (the paper's constant weight).
double unlabeled_weight(double lambda, int64_t warmup, int64_t step);

/// P_u = (softmax(weak) + softmax(strong)) / 2 in float32, without gradient
/// (the paper's equation 2).
at::Tensor mean_view_probs(const at::Tensor& logits_weak,
                           const at::Tensor& logits_strong);

/// mean(weight * CE(pseudo, logits)) with the batch size as denominator:
/// the unlabeled loss of every recipe. `logits` [U, C], `pseudo` [U] int64,
/// `weight` [U] float.
at::Tensor weighted_cross_entropy(const at::Tensor& logits,
                                  const at::Tensor& pseudo,
                                  const at::Tensor& weight);

/// The paper's unlabeled loss in one call: P_u = mean_view_probs; pseudo-label
/// y = argmax P_u, mask = max P_u > tau[y]; loss = mean(mask * CE(y, target
/// logits)), with the batch size as denominator. `logits_weak` and
/// `logits_strong`: [U, C]; `tau`: [C] float on the same device.
UnlabeledLoss pseudo_label_loss(const at::Tensor& logits_weak,
                                const at::Tensor& logits_strong,
                                const at::Tensor& tau,
                                PseudoTarget target = PseudoTarget::kStrong);

}  // namespace semifer::train
