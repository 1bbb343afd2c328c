#include "semifer/train/checkpoints.h"

#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cmath>

#include "semifer/train/config.h"
#include "semifer/train/metric_window.h"
#include "semifer/train/run_folder.h"
#include "semifer/train/state.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::train {

std::string step_checkpoint(int64_t step) {
  return str("checkpoint_step", step, ".pt");
}

Checkpoints::Checkpoints(RunFolder& folder, const TrainConfig& config)
    : folder_(folder), config_(config) {}

std::string Checkpoints::last_good() const {
  if (saved_step_ < 0) return "not written yet";
  return str(folder_.last_checkpoint(), " (step ", saved_step_, ")");
}

bool Checkpoints::loss_sound(double loss) const {
  const double ceiling = config_.train.max_loss;
  return std::isfinite(loss) && (ceiling <= 0 || loss <= ceiling);
}

void Checkpoints::diverged(const TrainState& state, double loss,
                           const std::string& detail) const {
  fail("step ", state.step, ": the loss is ", loss,
       std::isfinite(loss)
           ? str(", above train.max_loss ", config_.train.max_loss)
           : "",
       detail, "; stopped. The last good checkpoint is ", last_good(),
       "; resume from it with a lower train.lr");
}

void Checkpoints::check_losses(const TrainState& state,
                               const WindowSummary& w) const {
  if (loss_sound(w.max_loss)) return;
  // The window remembered on the device which step went bad first.
  diverged(state, w.max_loss,
           str(" (the largest of the last ", w.steps, " steps",
               w.first_unsound_step >= 0
                   ? str("; step ", w.first_unsound_step, " was the first")
                   : std::string(),
               ")"));
}

void Checkpoints::check_saveable(const TrainState& state) const {
  if (state.window.steps() > 0) check_losses(state, state.window.summary());
  SEMIFER_CHECK(state.weights_finite(), "step ", state.step,
                ": the weights are no longer finite; stopped. The last good "
                "checkpoint is ",
                last_good(), "; resume from it with a lower train.lr");
}

void Checkpoints::save_last(const TrainState& state) {
  folder_.save_last(state);
  pending_step_ = state.step;
}

void Checkpoints::confirm(const TrainState& state,
                          const at::Tensor& next_loss) {
  // The pending checkpoint's weights gave this loss: it is sound when the
  // loss is (one host transfer, only on the step after a checkpoint).
  const double loss = next_loss.item<double>();
  if (!loss_sound(loss)) {
    folder_.discard_last();
    pending_step_ = -1;
    diverged(state, loss, "");
  }
  commit();
}

void Checkpoints::commit() {
  if (pending_step_ < 0) return;
  folder_.confirm_last();
  saved_step_ = pending_step_;
  pending_step_ = -1;
}

void Checkpoints::keep_best(TrainState& s, double f1_a, double f1_b) {
  const BestConfig& best = config_.train.best;
  if (s.step < best.min_step) return;
  bool checked = false;
  auto write = [&](const std::string& name, const char* network) {
    if (!checked) check_saveable(s);
    checked = true;
    folder_.save_best(s, name, network);
  };
  if (f1_a > s.best_a.f1) {
    s.best_a = {f1_a, s.step};
    write("checkpoint_best_a.pt", "A");
  }
  if (f1_b > s.best_b.f1) {
    s.best_b = {f1_b, s.step};
    write("checkpoint_best_b.pt", "B");
  }
  const bool by_a = best.monitor == BestMonitor::kStudent ||
                    (best.monitor == BestMonitor::kEither && f1_a > f1_b);
  const double f1 = by_a ? f1_a : f1_b;
  const char* network = by_a ? "A" : "B";
  if (f1 < 0) return;
  if (f1 > s.best_f1) {
    s.best_f1 = f1;
    s.best_step = s.step;
    s.best_network = network;
    write("checkpoint_best.pt", network);
  }
  if (best.keep <= 1) return;
  auto& kept = s.kept;
  const size_t keep = static_cast<size_t>(best.keep);
  if (kept.size() >= keep && f1 <= kept.back().f1) return;
  write(step_checkpoint(s.step), network);
  kept.push_back({f1, s.step});
  std::stable_sort(kept.begin(), kept.end(),
                   [](const auto& x, const auto& y) { return x.f1 > y.f1; });
  while (kept.size() > keep) {
    folder_.remove(step_checkpoint(kept.back().step));
    kept.pop_back();
  }
}

}  // namespace semifer::train
