#include "semifer/train/step.h"

#include <torch/torch.h>

#include "semifer/train/ema.h"
#include "semifer/train/losses.h"
#include "semifer/train/optimizer.h"
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

// The parts as one tensor without a copy when they already are one: slices
// of one contiguous tensor on `device`, one after the other (the views
// data::render_step_views renders); undefined otherwise.
at::Tensor joined(const std::vector<at::Tensor>& parts,
                  const c10::Device& device) {
  int64_t n = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const at::Tensor& p = parts[i];
    if (p.device() != device || !p.is_contiguous() ||
        !p.storage().is_alias_of(parts.front().storage()))
      return {};
    if (i > 0) {
      const at::Tensor& q = parts[i - 1];
      if (p.sizes().slice(1) != q.sizes().slice(1) ||
          p.storage_offset() != q.storage_offset() + q.numel())
        return {};
    }
    n += p.size(0);
  }
  auto sizes = parts.front().sizes().vec();
  sizes[0] = n;
  const at::Tensor& first = parts.front();
  return first.as_strided(sizes, first.strides(), first.storage_offset());
}

// The step's images as one [sum N, 3, S, S] batch on the device: as they
// are when they already form one, else copied into the reused buffer's
// slices when there is one, else concatenated.
at::Tensor stage_images(const std::vector<at::Tensor>& parts,
                        const c10::Device& device, StepBuffers* buffers) {
  if (at::Tensor whole = joined(parts, device); whole.defined()) return whole;
  if (!buffers) {
    std::vector<at::Tensor> moved;
    for (const auto& p : parts) moved.push_back(to_device(p, device));
    return moved.size() == 1 ? moved.front() : torch::cat(moved, 0);
  }
  int64_t n = 0;
  for (const auto& p : parts) n += p.size(0);
  auto sizes = parts.front().sizes().vec();
  sizes[0] = n;
  at::Tensor& x = buffers->images;
  if (!x.defined() || x.sizes() != at::IntArrayRef(sizes) ||
      x.device() != device || x.scalar_type() != parts.front().scalar_type())
    x = torch::empty(sizes, parts.front().options().device(device));
  int64_t at = 0;
  for (const auto& p : parts) {
    x.narrow(0, at, p.size(0)).copy_(p, /*non_blocking=*/true);
    at += p.size(0);
  }
  return x;
}

at::Tensor stage_labels(const at::Tensor& y, const c10::Device& device,
                        StepBuffers* buffers) {
  // Already there (training on the CPU): nothing to copy.
  if (!buffers || y.device() == device) return to_device(y, device);
  at::Tensor& out = buffers->labels;
  if (!out.defined() || out.sizes() != y.sizes() || out.device() != device)
    out = torch::empty(y.sizes(), y.options().device(device));
  return out.copy_(y, /*non_blocking=*/true);
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
  clear_gradients(*state.optimizer);
  loss.backward();
  if (options.after_backward) options.after_backward(state);
  if (options.clip_grad_norm > 0)
    clip_gradient_norm(state.optimizer->param_groups().front().params(),
                       options.clip_grad_norm);
  state.optimizer->step();
  state.ema().update(options.ssl.ema_decay);
}

}  // namespace

StepStats supervised_step(TrainState& state, const data::Step& batch,
                          const StepOptions& options) {
  const auto device = device_of(state);
  const auto& lb = batch.labeled;
  StepStats s;
  s.loss_labeled = torch::nn::functional::cross_entropy(
      forward(state, stage_images({lb.x_weak}, device, options.buffers),
              options),
      stage_labels(lb.y, device, options.buffers));
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
  const int64_t b = lb.x_weak.size(0), u = ub.x_weak.size(0);
  const at::Tensor images = stage_images({lb.x_weak, ub.x_weak, ub.x_strong},
                                         device, options.buffers);
  const auto logits = forward(state, images, options);
  const auto weak = logits.narrow(0, b, u);
  const auto strong = logits.narrow(0, b + u, u);
  StepStats s;
  s.loss_labeled = torch::nn::functional::cross_entropy(
      logits.narrow(0, 0, b), stage_labels(lb.y, device, options.buffers));
  const at::Tensor weak_images =
      options.ssl.pseudo_labels == PseudoSource::kTeacher
          ? images.narrow(0, b, u)
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
