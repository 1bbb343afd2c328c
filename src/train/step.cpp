#include "semifer/train/step.h"

#include <torch/torch.h>

#include "semifer/train/ema.h"
#include "semifer/train/losses.h"
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

// Backward, the gradient hook, the optimizer step and the EMA teacher: the
// end every step shares.
void update(TrainState& state, const at::Tensor& loss,
            const StepOptions& options) {
  state.optimizer->zero_grad();
  loss.backward();
  if (options.after_backward) options.after_backward(state);
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
  StepStats s;
  s.loss_labeled = torch::nn::functional::cross_entropy(
      logits.narrow(0, 0, b), to_device(lb.y, device));
  UnlabeledLoss unl =
      pseudo_label_loss(logits.narrow(0, b, u), logits.narrow(0, b + u, u),
                        state.tau(), options.ssl.target);
  s.loss_unlabeled = unl.loss;
  const double lambda_u = unlabeled_weight(
      options.ssl.lambda_unlabeled, options.ssl.unlabeled_warmup, state.step);
  s.loss = options.ssl.lambda_labeled * s.loss_labeled + lambda_u * unl.loss;
  s.pseudo = unl.pseudo;
  s.mask = unl.mask;
  s.hidden = to_device(ub.hidden_label, device);
  update(state, s.loss, options);
  return s;
}

}  // namespace semifer::train
