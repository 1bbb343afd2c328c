#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

#include "semifer/data/loader.h"
#include "semifer/train/config.h"

namespace semifer::train {

struct TrainState;

/// One step's statistics, on the training device (nothing read back).
struct StepStats {
  at::Tensor loss;            ///< [] float: the optimised total
  at::Tensor loss_labeled;    ///< [] float
  at::Tensor loss_unlabeled;  ///< [] float (zero in the supervised stage)
  /// Semi-supervised stage only (undefined otherwise):
  at::Tensor pseudo;  ///< [U] int64 pseudo-labels
  at::Tensor mask;    ///< [U] float loss weights (a hard mask: 1 where kept)
  at::Tensor hidden;  ///< [U] int64 hidden labels (-1 unknown)
};

/// Called between backward and the optimizer step with the state whose
/// student holds the fresh gradients (a data-parallel run averages them
/// here).
using GradientHook = std::function<void(TrainState&)>;

/// The device tensors a step's inputs are copied into, kept from step to
/// step: [labeled; weak; strong] go straight into their slices of one
/// batch (no concatenation copy, no allocation per step, and fixed
/// addresses, as a captured CUDA graph needs). Reallocated when a batch's
/// shape, type or device changes.
struct StepBuffers {
  at::Tensor images;  ///< [B (+ 2U), 3, S, S] float32
  at::Tensor labels;  ///< [B] int64
  at::Tensor index;   ///< [U] int64 (semi-supervised steps)
  at::Tensor hidden;  ///< [U] int64 (semi-supervised steps)
};

/// A step's inputs on the training device.
struct StepInputs {
  at::Tensor images;      ///< [B (+ 2U), 3, S, S]: [labeled; weak; strong]
  at::Tensor labels;      ///< [B] int64
  at::Tensor index;       ///< [U] int64 positions in the unlabeled pool
  at::Tensor hidden;      ///< [U] int64 hidden labels (-1 unknown)
  int64_t labeled = 0;    ///< B
  int64_t unlabeled = 0;  ///< U (0 in the supervised stage)
};

/// How steps run on the device.
struct StepOptions {
  SslConfig ssl;
  bool bf16 = false;            ///< CUDA: forwards under bf16 autocast
  bool channels_last = false;   ///< CUDA: NHWC batches
  GradientHook after_backward;  ///< may be empty
  double clip_grad_norm = 0;    ///< > 0: clip the global gradient norm
  /// Reused input buffers (the trainer's); null: fresh tensors every step.
  StepBuffers* buffers = nullptr;
  /// [] float32 on the device: when defined, the unlabeled loss weight is
  /// read from it (a captured step, graph.h, fills it before each replay);
  /// else it is unlabeled_weight(...) of the state's step, on the host.
  at::Tensor lambda_unlabeled;
};

/// The step's inputs on `device` (`semi`: with the unlabeled views, index
/// and hidden labels). With `buffers`, copied into them (reallocated when a
/// shape changes), except that parts which already form one device batch
/// are used as they are unless `copy` is true (a captured graph reads
/// fixed addresses); without, moved or concatenated as needed.
StepInputs stage_step(const data::Step& batch, bool semi,
                      const c10::Device& device, StepBuffers* buffers,
                      bool copy = false);

/// The step on staged inputs: supervised_step or semi_supervised_step
/// without their staging. Queues device work only (what graph.h captures).
StepStats run_step(TrainState& state, const StepInputs& inputs, bool semi,
                   const StepOptions& options);

/// semi_supervised_step (`semi`) or supervised_step: stage_step into
/// options.buffers, then the step on the staged inputs.
StepStats run_step(TrainState& state, const data::Step& batch, bool semi,
                   const StepOptions& options);

/// A supervised step (paper section 3.2 without the unlabeled term):
/// cross-entropy on the weak labeled view, backward, optimizer step, EMA
/// teacher update.
StepStats supervised_step(TrainState& state, const data::Step& batch,
                          const StepOptions& options);

/// A semi-supervised step (paper sections 3.2-3.4): one forward over
/// [labeled; weak; strong] (as FixMatch, so BatchNorm sees all three),
/// pseudo-labels and weights from the state's PseudoLabeler (the paper's
/// mask by default; pseudo_labels.h), L = lambda1 L_l + lambda2 L_u,
/// backward, optimizer step, EMA teacher update.
StepStats semi_supervised_step(TrainState& state, const data::Step& batch,
                               const StepOptions& options);

}  // namespace semifer::train
