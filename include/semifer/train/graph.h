#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "semifer/train/step.h"

namespace semifer::train {

struct TrainState;

/// The training step captured once as a CUDA graph and replayed
/// (train.cuda_graph; docs/training.md, "CUDA graphs"): forward, losses,
/// pseudo-labels, backward, gradient clipping, the fused Adam step and the
/// EMA teacher become one graph launch per step instead of some thousand
/// kernel launches.
///
/// The first `warmup` steps run eagerly on a side stream (cuDNN's algorithm
/// search, cuBLAS's workspaces, the optimizer's state); the next one is
/// captured on that stream and replayed. Every later step copies its inputs
/// into the captured input buffers, fills the learning rate and the
/// unlabeled loss weight into [] device tensors the graph reads, replays,
/// and returns the captured statistics tensors, which hold that step's
/// values until the next step. A step whose batch shape differs from the
/// captured one runs eagerly. Randomness in the step (dropout, stochastic
/// depth) comes from the CUDA generator, which a capture registers, so
/// replays draw fresh numbers.
///
/// Where capture is impossible (obstacle() says why), every step runs
/// eagerly. A capture that fails all the same throws semifer::Error from
/// run(): it can leave LibTorch mid-capture, so no step may follow it.
class GraphedStep {
 public:
  /// Empty when the steps of `state` under `options` on `device` can be
  /// captured; else why not, one line (a CPU device, a LibTorch without
  /// CUDA or older than 2.2, an optimizer without the fused tensor-lr
  /// kernel, a gradient hook such as a data-parallel all-reduce,
  /// deterministic algorithms).
  static std::string obstacle(TrainState& state, const StepOptions& options,
                              const c10::Device& device);

  explicit GraphedStep(int64_t warmup = 3);
  ~GraphedStep();
  GraphedStep(const GraphedStep&) = delete;
  GraphedStep& operator=(const GraphedStep&) = delete;

  /// One step (`semi`: semi-supervised) at learning rate `lr` (also set on
  /// the optimizer's groups by the caller, for the eager path).
  StepStats run(TrainState& state, const data::Step& batch, bool semi,
                const StepOptions& options, double lr);

  /// True once a step has been captured (later steps replay it).
  bool captured() const;
  /// What changed at the last step, for the log ("step N captured ...",
  /// "step N has another batch shape ..."), then empty until the next
  /// change.
  std::string note();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace semifer::train
