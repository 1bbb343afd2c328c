#pragma once

#include <cstdint>
#include <string>

namespace at {
class Tensor;
}

namespace semifer::train {

struct TrainConfig;
struct TrainState;
struct WindowSummary;
class RunFolder;

/// "checkpoint_step<N>.pt": a kept best checkpoint (train.best.keep).
std::string step_checkpoint(int64_t step);

/// The Trainer's checkpointing part: which checkpoints a run keeps, and the
/// checks that keep a step that went bad out of them.
///
/// checkpoint_last.pt is written as pending and replaces the previous one
/// only once the next step's loss is sound (confirm) or the run ends there
/// (commit). Validation scores go to checkpoint_best.pt (by
/// train.best.monitor), checkpoint_best_a.pt and checkpoint_best_b.pt (by
/// each network) and checkpoint_step<N>.pt (the train.best.keep best), from
/// train.best.min_step on. A loss that is NaN, infinite or above
/// train.max_loss, or weights that are no longer finite, stop the run with
/// a semifer::Error naming the last good checkpoint; nothing is written
/// after them.
class Checkpoints {
 public:
  /// `folder` and `config` outlive this object.
  Checkpoints(RunFolder& folder, const TrainConfig& config);

  /// The run resumed from the checkpoint_last.pt written at `step`.
  void resumed_at(int64_t step) { saved_step_ = step; }
  /// Throws when the open metric window's losses or the weights went bad.
  void check_saveable(const TrainState& state) const;
  /// Throws when the largest loss of window `w` is not sound.
  void check_losses(const TrainState& state, const WindowSummary& w) const;
  /// Writes checkpoint_last.pt, pending (call check_saveable first).
  void save_last(const TrainState& state);
  /// The step of the pending checkpoint_last.pt (-1: none).
  int64_t pending_step() const { return pending_step_; }
  /// `next_loss` ([] float, the loss of the step after the pending
  /// checkpoint) decides: sound confirms it (one host read), else the
  /// pending file is discarded and the run stops.
  void confirm(const TrainState& state, const at::Tensor& next_loss);
  /// Confirms the pending checkpoint without a next step (the run ends).
  void commit();
  /// The best checkpoints after a validation with these macro F1 (-1: none).
  void keep_best(TrainState& state, double f1_a, double f1_b);
  /// "RUN/checkpoint_last.pt (step N)", or "not written yet".
  std::string last_good() const;

 private:
  bool loss_sound(double loss) const;
  [[noreturn]] void diverged(const TrainState& state, double loss,
                             const std::string& detail) const;

  RunFolder& folder_;
  const TrainConfig& config_;
  int64_t saved_step_ = -1;    ///< step of the confirmed checkpoint_last.pt
  int64_t pending_step_ = -1;  ///< step of the unconfirmed one (-1: none)
};

}  // namespace semifer::train
