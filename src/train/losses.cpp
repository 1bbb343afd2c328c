#include "semifer/train/losses.h"

#include <torch/torch.h>

#include "semifer/util/error.h"

namespace semifer::train {

double unlabeled_weight(double lambda, int64_t warmup, int64_t step) {
  if (warmup <= 0 || step + 1 >= warmup) return lambda;
  return lambda * static_cast<double>(step + 1) / static_cast<double>(warmup);
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
    const auto p =
        (torch::softmax(logits_weak.detach().to(torch::kFloat32), 1) +
         torch::softmax(logits_strong.detach().to(torch::kFloat32), 1)) /
        2;
    auto [confidence, pseudo] = p.max(1);
    out.confidence = confidence;
    out.pseudo = pseudo;
    out.mask = confidence.gt(tau.to(confidence.dtype()).index_select(0, pseudo))
                   .to(torch::kFloat32);
  }
  const auto& logits =
      target == PseudoTarget::kStrong ? logits_strong : logits_weak;
  const auto ce = torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat32), out.pseudo,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  out.loss = (ce * out.mask).mean();
  return out;
}

}  // namespace semifer::train
