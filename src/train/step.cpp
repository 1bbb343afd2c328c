#include "semifer/train/step.h"

#include <torch/torch.h>

#include "semifer/train/ema.h"
#include "semifer/train/losses.h"
#include "semifer/train/pseudo_labels.h"
#include "semifer/train/state.h"
#include "semifer/util/torch_compat.h"

namespace semifer::train {

namespace {

c10::Device device_of(const TrainState& state) {
  return state.student->parameters().front().device();
}

// Batches come from pinned memory when CUDA is present: the copies overlap
// the previous step's kernels (LibTorch's caching host allocator keeps a
// pinned buffer until its copy is done).
at::Tensor to_device(const at::Tensor& x, const c10::Device& device) {
  return x.to(device, /*non_blocking=*/true);
}

at::Tensor forward(TrainState& state, at::Tensor x,
                   const StepOptions& options) {
  if (options.channels_last)
    x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  compat::CudaBf16Autocast autocast(options.bf16);
  return state.student->forward(x).to(torch::kFloat32);
}

// The probabilities pseudo-labels come from (ssl.pseudo_labels), without
// gradient.
at::Tensor pseudo_label_probs(TrainState& state, const at::Tensor& weak,
                              const at::Tensor& strong,
                              const at::Tensor& weak_images,
                              const StepOptions& options) {
  torch::NoGradGuard no_grad;
  switch (options.ssl.pseudo_labels) {
    case PseudoSource::kWeak:
      return torch::softmax(weak.detach().to(torch::kFloat32), 1);
    case PseudoSource::kTeacher: {
      at::Tensor x = weak_images;
      if (options.channels_last)
        x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      compat::CudaBf16Autocast autocast(options.bf16);
      return torch::softmax(state.teacher->forward(x).to(torch::kFloat32), 1);
    }
    case PseudoSource::kMean:
      break;
  }
  return mean_view_probs(weak, strong);
}

// Backward, the gradient hook, the optimizer step and the EMA teacher: the
// end every step shares.
void update(TrainState& state, const at::Tensor& loss,
            const StepOptions& options) {
  state.optimizer->zero_grad();
  loss.backward();
  if (options.after_backward) options.after_backward(state);
  if (options.clip_grad_norm > 0)
    torch::nn::utils::clip_grad_norm_(state.student->parameters(),
                                      options.clip_grad_norm);
  state.optimizer->step();
  ema_update(*state.teacher, *state.student, options.ssl.ema_decay);
}

}  // namespace

StepStats supervised_step(TrainState& state, const data::Step& batch,
                          const StepOptions& options) {
  const auto device = device_of(state);
  const auto& lb = batch.labeled;
  StepStats s;
  s.loss_labeled = torch::nn::functional::cross_entropy(
      forward(state, to_device(lb.x_weak, device), options),
      to_device(lb.y, device));
  s.loss = options.ssl.lambda_labeled * s.loss_labeled;
  s.loss_unlabeled = torch::zeros({}, s.loss.options());
  update(state, s.loss, options);
  return s;
}

StepStats semi_supervised_step(TrainState& state, const data::Step& batch,
                               const StepOptions& options) {
  const auto device = device_of(state);
  const auto& lb = batch.labeled;
  const auto& ub = batch.unlabeled;
  const auto logits = forward(
      state,
      torch::cat({to_device(lb.x_weak, device), to_device(ub.x_weak, device),
                  to_device(ub.x_strong, device)},
                 0),
      options);
  const int64_t b = lb.x_weak.size(0), u = ub.x_weak.size(0);
  const auto weak = logits.narrow(0, b, u);
  const auto strong = logits.narrow(0, b + u, u);
  StepStats s;
  s.loss_labeled = torch::nn::functional::cross_entropy(
      logits.narrow(0, 0, b), to_device(lb.y, device));
  const at::Tensor weak_images =
      options.ssl.pseudo_labels == PseudoSource::kTeacher
          ? to_device(ub.x_weak, device)
          : at::Tensor();
  const PseudoLabels labels = state.labeler.label(
      pseudo_label_probs(state, weak, strong, weak_images, options),
      state.tau(), to_device(ub.index, device));
  s.loss_unlabeled = weighted_cross_entropy(
      options.ssl.target == PseudoTarget::kStrong ? strong : weak,
      labels.pseudo, labels.weight);
  const double lambda_u = unlabeled_weight(
      options.ssl.lambda_unlabeled, options.ssl.unlabeled_warmup, state.step);
  s.loss =
      options.ssl.lambda_labeled * s.loss_labeled + lambda_u * s.loss_unlabeled;
  s.pseudo = labels.pseudo;
  s.mask = labels.weight;
  s.hidden = to_device(ub.hidden_label, device);
  update(state, s.loss, options);
  return s;
}

}  // namespace semifer::train
