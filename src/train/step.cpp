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

// The sizes of the parts stacked along dimension 0.
std::vector<int64_t> stacked_sizes(const std::vector<at::Tensor>& parts) {
  auto sizes = parts.front().sizes().vec();
  sizes[0] = 0;
  for (const auto& p : parts) sizes[0] += p.size(0);
  return sizes;
}

// The parts as one tensor without a copy when they already are one: slices
// of one contiguous tensor on `device`, one after the other (the views
// data::render_step_views renders); undefined otherwise.
at::Tensor joined(const std::vector<at::Tensor>& parts,
                  const c10::Device& device) {
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
  }
  const at::Tensor& first = parts.front();
  return first.as_strided(stacked_sizes(parts), first.strides(),
                          first.storage_offset());
}

// The parts, one after the other, on `device` in the reused buffer `out`
// (reallocated when their whole's shape, type or device differs).
const at::Tensor& copy_into(at::Tensor& out,
                            const std::vector<at::Tensor>& parts,
                            const c10::Device& device) {
  const auto sizes = stacked_sizes(parts);
  const at::Tensor& first = parts.front();
  if (!out.defined() || out.sizes() != at::IntArrayRef(sizes) ||
      out.device() != device || out.scalar_type() != first.scalar_type())
    out = torch::empty(sizes, first.options().device(device));
  int64_t at = 0;
  for (const auto& p : parts) {
    out.narrow(0, at, p.size(0)).copy_(p, /*non_blocking=*/true);
    at += p.size(0);
  }
  return out;
}

// The step's images as one [sum N, 3, S, S] batch on the device: as they
// are when they already form one (unless `copy`), else copied into the
// reused buffer's slices when there is one, else concatenated.
at::Tensor stage_images(const std::vector<at::Tensor>& parts,
                        const c10::Device& device, StepBuffers* buffers,
                        bool copy) {
  if (!copy || !buffers) {
    if (at::Tensor whole = joined(parts, device); whole.defined()) return whole;
  }
  if (!buffers) {
    std::vector<at::Tensor> moved;
    for (const auto& p : parts) moved.push_back(to_device(p, device));
    return moved.size() == 1 ? moved.front() : torch::cat(moved, 0);
  }
  return copy_into(buffers->images, parts, device);
}

// A small input (labels, indices) on the device: as it is when it is
// already there (training on the CPU) unless `copy`, else in its buffer.
at::Tensor stage_small(const at::Tensor& y, at::Tensor StepBuffers::*slot,
                       const c10::Device& device, StepBuffers* buffers,
                       bool copy) {
  if (!buffers || (y.device() == device && !copy)) return to_device(y, device);
  return copy_into(buffers->*slot, {y}, device);
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

StepInputs stage_step(const data::Step& batch, bool semi,
                      const c10::Device& device, StepBuffers* buffers,
                      bool copy) {
  const auto& lb = batch.labeled;
  StepInputs in;
  in.labeled = lb.x_weak.size(0);
  in.labels = stage_small(lb.y, &StepBuffers::labels, device, buffers, copy);
  if (!semi) {
    in.images = stage_images({lb.x_weak}, device, buffers, copy);
    return in;
  }
  const auto& ub = batch.unlabeled;
  in.unlabeled = ub.x_weak.size(0);
  in.images =
      stage_images({lb.x_weak, ub.x_weak, ub.x_strong}, device, buffers, copy);
  in.index = stage_small(ub.index, &StepBuffers::index, device, buffers, copy);
  in.hidden =
      stage_small(ub.hidden_label, &StepBuffers::hidden, device, buffers, copy);
  return in;
}

StepStats run_step(TrainState& state, const StepInputs& in, bool semi,
                   const StepOptions& options) {
  StepStats s;
  if (!semi) {
    s.loss_labeled = torch::nn::functional::cross_entropy(
        forward(state, in.images, options), in.labels);
    s.loss = options.ssl.lambda_labeled * s.loss_labeled;
    s.loss_unlabeled = torch::zeros({}, s.loss.options());
    update(state, s.loss, options);
    return s;
  }
  const int64_t b = in.labeled, u = in.unlabeled;
  const auto logits = forward(state, in.images, options);
  const auto weak = logits.narrow(0, b, u);
  const auto strong = logits.narrow(0, b + u, u);
  s.loss_labeled =
      torch::nn::functional::cross_entropy(logits.narrow(0, 0, b), in.labels);
  const at::Tensor weak_images =
      options.ssl.pseudo_labels == PseudoSource::kTeacher
          ? in.images.narrow(0, b, u)
          : at::Tensor();
  const PseudoLabels labels = state.labeler.label(
      pseudo_label_probs(state, weak, strong, weak_images, options),
      state.tau(), in.index);
  s.loss_unlabeled = weighted_cross_entropy(
      options.ssl.target == PseudoTarget::kStrong ? strong : weak,
      labels.pseudo, labels.weight);
  const at::Tensor labeled_term = options.ssl.lambda_labeled * s.loss_labeled;
  if (options.lambda_unlabeled.defined()) {
    s.loss = labeled_term + options.lambda_unlabeled * s.loss_unlabeled;
  } else {
    s.loss = labeled_term + unlabeled_weight(options.ssl.lambda_unlabeled,
                                             options.ssl.unlabeled_warmup,
                                             state.step) *
                                s.loss_unlabeled;
  }
  s.pseudo = labels.pseudo;
  s.mask = labels.weight;
  s.hidden = in.hidden;
  update(state, s.loss, options);
  return s;
}

StepStats run_step(TrainState& state, const data::Step& batch, bool semi,
                   const StepOptions& options) {
  return run_step(state,
                  stage_step(batch, semi, device_of(state), options.buffers),
                  semi, options);
}

StepStats supervised_step(TrainState& state, const data::Step& batch,
                          const StepOptions& options) {
  return run_step(state, batch, /*semi=*/false, options);
}

StepStats semi_supervised_step(TrainState& state, const data::Step& batch,
                               const StepOptions& options) {
  return run_step(state, batch, /*semi=*/true, options);
}

}  // namespace semifer::train
