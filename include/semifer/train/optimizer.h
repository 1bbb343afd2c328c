#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "semifer/train/config.h"

namespace semifer::train {

/// The optimizer train.optimizer names over `params`: Adam (the paper's,
/// with L2 weight decay), AdamW (decoupled weight decay) or SGD with
/// train.momentum and train.nesterov, all at train.lr with
/// train.weight_decay. Adam and AdamW update every parameter at once by
/// train.optimizer_kernels (OptimizerKernels); their state is
/// torch::optim::Adam's / AdamW's, so checkpoints of either path load into
/// the other.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const LoopConfig& loop, std::vector<at::Tensor> params);

/// What a step captured as a CUDA graph (graph.h) needs from its optimizer.
/// A replay runs the captured kernels only: the learning rate must come
/// from the device, and the host's step counts (saved in checkpoints) must
/// follow the device's.
class GraphSafeOptimizer {
 public:
  virtual ~GraphSafeOptimizer() = default;
  /// True where a step can be captured: Adam/AdamW through CUDA's fused
  /// kernel with a tensor learning rate (LibTorch >= 2.2).
  virtual bool capturable() const = 0;
  /// From now on every step reads its learning rate from `lr`, a [] float32
  /// tensor on the parameters' device that the caller fills before each
  /// step (the fused path only; the host value is then not used).
  virtual void set_device_lr(at::Tensor lr) = 0;
  /// A capture begins: the next step() notes which parameters it counts.
  virtual void begin_capture() = 0;
  /// The capture ended: kept (its replay performs that step) or discarded
  /// (the host counts it added are taken back).
  virtual void end_capture(bool kept) = 0;
  /// The captured step was replayed once more: the noted parameters' host
  /// step counts go up by one, as the device's did.
  virtual void count_replay() = 0;
};

/// `optimizer` as a GraphSafeOptimizer (semifer's multi-tensor Adam and
/// AdamW); null for the others (SGD, train.optimizer_kernels: loop).
GraphSafeOptimizer* graph_safe(torch::optim::Optimizer& optimizer);

/// The kernels `kernels` resolves to for parameters on `device`: kAuto is
/// kFused on CUDA (Adam; AdamW too where LibTorch has at::_fused_adamw_)
/// and kForeach elsewhere; kFused where LibTorch has no fused kernel for
/// the device is an error naming train.optimizer_kernels.
OptimizerKernels resolve_kernels(OptimizerKernels kernels, OptimizerKind kind,
                                 const c10::Device& device);

/// The learning rate of step `step` (from 0) of a run of `total` steps:
/// linear warm-up from lr / warmup_steps to lr over the first warmup_steps
/// steps, then `constant` lr or `cosine` lr * (1 + cos(pi * t)) / 2 with t
/// going from 0 to 1 over the remaining steps (SGDR, Loshchilov and Hutter
/// 2017, without restarts).
double learning_rate(const LoopConfig& loop, int64_t step, int64_t total);

/// Sets every parameter group's learning rate.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

/// Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)):
/// no kernel per parameter, and backward writes fresh gradients.
void clear_gradients(torch::optim::Optimizer& optimizer);

/// torch.nn.utils.clip_grad_norm_ with the L2 norm: scales the gradients
/// of `params` so that their global norm is at most `max_norm`, without
/// reading anything back to the host (the norm stays on the device).
/// Returns the norm before clipping, a [] tensor on the device.
at::Tensor clip_gradient_norm(const std::vector<at::Tensor>& params,
                              double max_norm);

}  // namespace semifer::train
