#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace semifer::io {
struct MetricsLine;
class EventWriter;
}  // namespace semifer::io

namespace semifer::train {

struct TrainState;

/// The files of a run folder (docs/training.md): config.yaml (the resolved
/// config), metrics.jsonl (io/metrics_log.h), checkpoint_last.pt and the
/// best checkpoints (checkpoint_best.pt, checkpoint_best_a.pt,
/// checkpoint_best_b.pt, checkpoint_step<N>.pt; TrainState), and two
/// copies of the metrics for other tools: metrics.csv and a TensorBoard
/// event file (events.out.tfevents.*; io/tfevents.h). Every file write of a run
/// goes through here: a folder that is not the writer (ranks other than 0 of a
/// data-parallel run) writes nothing.
class RunFolder {
 public:
  explicit RunFolder(std::string dir, bool writer = true);
  ~RunFolder();
  RunFolder(RunFolder&&) noexcept;
  RunFolder& operator=(RunFolder&&) noexcept;

  /// The run's classes and stage, for metrics.csv's columns (call before
  /// start or resume_at).
  void set_metric_columns(const std::vector<std::string>& classes,
                          bool semi_supervised);

  const std::string& dir() const { return dir_; }
  bool writer() const { return writer_; }
  std::string last_checkpoint() const;
  std::string best_checkpoint() const;
  bool has_last_checkpoint() const;

  /// For a new run: creates the folder. One that holds another run's files
  /// is refused with an error naming them and the flags (--resume,
  /// --overwrite), unless `overwrite`: then those files are removed first.
  void start(bool overwrite);
  /// True when the folder holds no checkpoint (no checkpoint_* file) and its
  /// config.yaml is `config_yaml`: a run of this config stopped before its
  /// first checkpoint, with nothing to continue from (--auto-resume starts it
  /// again).
  bool stopped_before_checkpoint(const std::string& config_yaml) const;
  /// For a resumed run: checkpoint_last.pt must exist (else an error
  /// naming it); lines of metrics.jsonl after `step` are dropped (they will
  /// be written again), as is a line cut short by a crash; metrics.csv and
  /// the event file are written again from the lines kept.
  void resume_at(int64_t step);

  /// Writes config.yaml atomically.
  void write_config(const std::string& yaml) const;
  /// Appends one line to metrics.jsonl, metrics.csv and the event file and
  /// flushes; a failed write throws semifer::Error naming the file.
  void append_metrics(const io::MetricsLine& line) const;
  /// RUN_DIR/name.
  std::string file(const std::string& name) const;
  /// Saves the state as RUN_DIR/name (with an empty metric window), its
  /// card naming `selected` ("A"/"B") as the network it was chosen by.
  void save_best(const TrainState& state, const std::string& name,
                 const std::string& selected) const;
  /// Removes RUN_DIR/name (a best checkpoint that fell out of the kept ones).
  void remove(const std::string& name) const;
  /// Saves the state as the next checkpoint_last.pt, unconfirmed: written
  /// completely to checkpoint_last.pt.unconfirmed, it replaces
  /// checkpoint_last.pt only on confirm_last() (once the next step's loss
  /// shows its weights are sound); discard_last() drops it.
  void save_last(const TrainState& state) const;
  void confirm_last() const;
  void discard_last() const;

 private:
  std::string path(const char* name) const;
  void open_copies(const std::vector<io::MetricsLine>& lines);

  std::string dir_;
  bool writer_;
  std::vector<std::string> columns_;
  std::unique_ptr<io::EventWriter> events_;
};

}  // namespace semifer::train
