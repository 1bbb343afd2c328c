#include "semifer/train/losses.h"

#include <torch/torch.h>

#include "semifer/util/error.h"

namespace semifer::train {

double unlabeled_weight(double lambda, int64_t warmup, int64_t step) {
  if (warmup <= 0 || step + 1 >= warmup) return lambda;
  return lambda * static_cast<double>(step + 1) / static_cast<double>(warmup);
}

at::Tensor mean_view_probs(const at::Tensor& logits_weak,
                           const at::Tensor& logits_strong) {
  torch::NoGradGuard no_grad;
  return (torch::softmax(logits_weak.detach().to(torch::kFloat32), 1) +
          torch::softmax(logits_strong.detach().to(torch::kFloat32), 1)) /
         2;
}

at::Tensor weighted_cross_entropy(const at::Tensor& logits,
                                  const at::Tensor& pseudo,
                                  const at::Tensor& weight) {
  const auto ce = torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat32), pseudo,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  return (ce * weight).mean();
}

UnlabeledLoss pseudo_label_loss(const at::Tensor& logits_weak,
                                const at::Tensor& logits_strong,
                                const at::Tensor& tau, PseudoTarget target) {
  SEMIFER_CHECK(logits_weak.dim() == 2 &&
                    logits_weak.sizes() == logits_strong.sizes() &&
                    tau.dim() == 1 && tau.size(0) == logits_weak.size(1),
                "pseudo_label_loss: expected logits [U, C] twice and tau [C]");
  UnlabeledLoss out;
  {
    torch::NoGradGuard no_grad;
    auto [confidence, pseudo] =
        mean_view_probs(logits_weak, logits_strong).max(1);
    out.confidence = confidence;
    out.pseudo = pseudo;
    out.mask = confidence.gt(tau.to(confidence.dtype()).index_select(0, pseudo))
                   .to(torch::kFloat32);
  }
  out.loss = weighted_cross_entropy(
      target == PseudoTarget::kStrong ? logits_strong : logits_weak, out.pseudo,
      out.mask);
  return out;
}

}  // namespace semifer::train
