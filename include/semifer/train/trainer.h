#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "semifer/train/checkpoints.h"
#include "semifer/train/config.h"
#include "semifer/train/run_folder.h"
#include "semifer/train/run_log.h"
#include "semifer/train/step.h"

namespace semifer::data {
struct Dataset;
class Loader;
}  // namespace semifer::data
namespace semifer::io {
struct MetricsLine;
}

namespace semifer::train {

struct TrainState;
struct WindowSummary;
class EpochEvaluator;
class Group;
class DataParallelRank;
class GraphedStep;

/// Options of a run that are not part of its configuration.
struct RunOptions {
  std::string run_dir;     ///< RUN_DIR: config.yaml, metrics.jsonl, checkpoints
  bool resume = false;     ///< continue from RUN_DIR/checkpoint_last.pt
  bool overwrite = false;  ///< replace another run in RUN_DIR
  /// Resume when RUN_DIR has checkpoint_last.pt, else start the run; a
  /// folder of the same config that holds no checkpoint (a job that died
  /// before its first) is started again. For jobs that restart themselves
  /// (`semifer launch --max-restarts`, torchrun, a requeued Slurm job).
  /// Rank 0 decides for every rank.
  bool auto_resume = false;
  bool progress = true;  ///< progress and log lines to the log sink
  /// False: write no file (the ranks other than 0 of a data-parallel run).
  bool writer = true;
  /// Polled after every step; true finishes the step, writes
  /// checkpoint_last.pt and returns (RunSummary::stopped).
  std::function<bool()> stop_requested;
  /// Between backward and the optimizer step (step.h).
  GradientHook after_backward;
  /// Each metric line, after it is written.
  std::function<void(const io::MetricsLine&)> on_metrics;
  /// Replaces the loader when set: step s's input (benchmarks feed fixed
  /// tensors this way to time the model's step alone; `semifer bench
  /// train`).
  std::function<data::Step(int64_t step)> input;
  /// A data-parallel run's ranks (distributed.h; null: one process). The
  /// Trainer then trains its share of every step, averages the gradients,
  /// shares the DTM, validation and metric sums and agrees on stopping;
  /// set `writer` on rank 0 only.
  std::shared_ptr<Group> group;
};

/// Summary of a finished (or stopped) run.
struct RunSummary {
  int64_t steps = 0;       ///< the run's step at the end
  int64_t first_step = 0;  ///< where this invocation started (a resume's step)
  /// Best validation macro F1 by train.best.monitor (-1: none): that of
  /// checkpoint_best.pt.
  double best_f1 = -1;
  int64_t best_step = -1;
  std::string best_network;  ///< "A" or "B"
  std::string last_checkpoint;
  bool stopped = false;  ///< stop_requested ended it early
  /// Keys a resumed run changed (allowed ones; they are logged).
  std::vector<ConfigChange> changes;
  /// train.cuda_graph: "" when off, else what happened ("step N captured
  /// after ...", or why the steps ran eagerly), as logged.
  std::string cuda_graph;
};

/// Trains as the paper does (sections 3.2-3.4): the supervised stage
/// (ssl.enabled false) or the semi-supervised stage with the EMA teacher
/// and the Dynamic Threshold Module. The Trainer owns the loop and calls its
/// parts: the step functions (step.h), the metric window (metric_window.h),
/// the epoch-end DTM update and validation (validation.h), checkpointing
/// (checkpoints.h), logging and progress (run_log.h), the run folder's
/// files (run_folder.h) and the train state (state.h).
///
/// Writes RUN_DIR/config.yaml (resolved), RUN_DIR/metrics.jsonl (a line
/// every log_every steps and one per epoch) and checkpoints
/// (checkpoint_last.pt every checkpoint_every steps, at each epoch end and
/// when stopped; checkpoint_best.pt by train.best.monitor's validation
/// F1, checkpoint_best_a.pt and checkpoint_best_b.pt by each network's and
/// checkpoint_step<N>.pt for the train.best.keep best), all
/// crash-safely. A resumed run continues bit for bit where the last
/// checkpoint was written (on CPU with train.deterministic); it refuses a
/// config whose data, classes, model, views or method differ from the
/// checkpoint's and records allowed changes (train.lr, train.epochs, ...:
/// resumable_keys(), resume.h) in config.yaml. A loss that is NaN, infinite or
/// above train.max_loss stops the run with an error naming the last good
/// checkpoint: a new checkpoint_last.pt replaces the previous one only once
/// the next step's loss is sound (or the run ends there), and none is
/// written after such a loss or with non-finite weights.
class Trainer {
 public:
  /// Builds the data, the networks and the state, and opens the run folder
  /// (refusing another run there unless options.overwrite; resuming when
  /// options.resume). Throws semifer::Error on bad input.
  Trainer(TrainConfig config, RunOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Trains to the last step (or until stop_requested).
  RunSummary run();

  TrainState& state() { return *state_; }
  const TrainConfig& config() const { return config_; }

 private:
  using Clock = std::chrono::steady_clock;

  void setup_device();
  /// train.cuda_graph: graph_, or a message saying why steps run eagerly.
  void setup_graph();
  void build_state();
  void join_group();
  void load_resumed(const std::string& path);
  void open_run();
  void check_resume(const std::string& saved_config, const std::string& path);
  void train_step(data::Loader* loader);
  /// train.views resolved for this run's device.
  bool views_on_device() const;
  void end_window(bool epoch_end);
  void end_epoch(io::MetricsLine& line);
  /// checkpoint_last.pt (pending), after the checks and a data-parallel
  /// run's buffer and window sync.
  void save();

  /// LibTorch's intra-op threads and deterministic switch are the
  /// process's: the first Trainer alive saves the program's, the last one
  /// puts them back (also when a constructor throws). The first member,
  /// so the last destroyed.
  class ProcessSettings {
   public:
    ProcessSettings();
    ~ProcessSettings();
    ProcessSettings(const ProcessSettings&) = delete;
    ProcessSettings& operator=(const ProcessSettings&) = delete;
  };
  ProcessSettings process_settings_;
  TrainConfig config_;
  RunOptions options_;
  RunFolder folder_;
  Checkpoints checkpoints_{folder_, config_};
  RunLog log_;
  c10::Device device_{c10::kCPU};
  StepOptions step_options_;
  StepBuffers step_buffers_;  ///< step_options_.buffers points here
  std::shared_ptr<const data::Dataset> dataset_;
  std::unique_ptr<TrainState> state_;
  std::unique_ptr<EpochEvaluator> evaluator_;
  std::unique_ptr<DataParallelRank> parallel_;  ///< in a data-parallel job
  std::unique_ptr<GraphedStep> graph_;  ///< train.cuda_graph, when possible
  RunSummary summary_;
  bool epoch_kept_any_ = false;  ///< a pseudo-label passed this epoch
  bool warned_no_pseudo_ = false;
  double lr_ = 0;             ///< the learning rate of the last step
  double input_seconds_ = 0;  ///< waited for the input in this window
  Clock::time_point window_start_;
};

/// Trainer(config, options).run().
RunSummary run_training(const TrainConfig& config, const RunOptions& options);

}  // namespace semifer::train
