#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace c10 {
struct Device;
}
namespace semifer::data {
struct Dataset;
}
namespace semifer::io {
struct MetricsLine;
}
namespace semifer::util {
class Progress;
}

namespace semifer::train {

struct TrainConfig;
struct TrainState;
struct WindowSummary;

/// The Trainer's logging and progress part: what a run tells its user, all
/// through the library's log sink (util/log.h). The start-up summary, the
/// in-place progress bar, a line per metric window (rate, ETA, losses,
/// validation F1), a notice while the epoch-end work runs, and the warning
/// when an epoch kept no pseudo-label.
class RunLog {
 public:
  /// `show`: progress and summary lines (RunOptions::progress, on rank 0);
  /// `warn`: warnings (rank 0). `config` outlives this object.
  RunLog(const TrainConfig& config, bool show, bool warn);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  /// The start-up summary: stage, device and threads, model and parameter
  /// count, pool sizes (labeled per class), the recipe, steps, batch and
  /// where the run goes ("resuming at step N" or "new run"); `job` names
  /// the data-parallel job ("2 ranks, gloo"; empty: one process, no job).
  void start(const TrainState& state, const data::Dataset& dataset,
             const c10::Device& device, const std::string& job,
             const std::string& run_dir, bool resumed) const;
  /// Training begins at `state.step` (the rate counts from here).
  void begin(const TrainState& state);
  /// After each step: the bar with the window's running losses.
  void step(const TrainState& state);
  /// While the epoch-end work (DTM update, validation of `images` faces)
  /// runs.
  void epoch_work(const TrainState& state, int64_t epoch, int64_t images);
  /// A log line for the metric line of window `w`.
  void window(const TrainState& state, const io::MetricsLine& line,
              const WindowSummary& w);
  /// An epoch kept no pseudo-label: the thresholds it used and the
  /// teacher's mean confidence on correctly predicted labeled faces.
  void no_pseudo_labels(const TrainState& state, const std::vector<double>& tau,
                        const std::vector<double>& confidence) const;
  /// Draws the bar's final state.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;

  const TrainConfig& config_;
  bool show_, warn_;
  std::unique_ptr<util::Progress> progress_;
  int64_t first_step_ = 0;
  Clock::time_point start_;
};

}  // namespace semifer::train
