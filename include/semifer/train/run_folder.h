#pragma once

#include <cstdint>
#include <string>

namespace semifer::io {
struct MetricsLine;
}

namespace semifer::train {

struct TrainState;

/// The files of a run folder (docs/training.md): config.yaml (the resolved
/// config), metrics.jsonl (io/metrics_log.h), checkpoint_last.pt and
/// checkpoint_best.pt (TrainState). Every file write of a run goes through
/// here: a folder that is not the writer (ranks other than 0 of a
/// data-parallel run) writes nothing.
class RunFolder {
 public:
  explicit RunFolder(std::string dir, bool writer = true);

  const std::string& dir() const { return dir_; }
  bool writer() const { return writer_; }
  std::string last_checkpoint() const;
  std::string best_checkpoint() const;
  bool has_last_checkpoint() const;

  /// For a new run: creates the folder. One that holds another run's files
  /// is refused with an error naming them and the flags (--resume,
  /// --overwrite), unless `overwrite`: then those files are removed first.
  void start(bool overwrite);
  /// For a resumed run: checkpoint_last.pt must exist (else an error
  /// naming it); lines of metrics.jsonl after `step` are dropped (they will
  /// be written again), as is a line cut short by a crash.
  void resume_at(int64_t step);

  /// Writes config.yaml atomically.
  void write_config(const std::string& yaml) const;
  /// Appends one line to metrics.jsonl and flushes; a failed write throws
  /// semifer::Error naming the file.
  void append_metrics(const io::MetricsLine& line) const;
  /// Saves the state as checkpoint_best.pt (with an empty metric window).
  void save_best(const TrainState& state) const;
  /// Saves the state as the next checkpoint_last.pt, unconfirmed: written
  /// completely to checkpoint_last.pt.unconfirmed, it replaces
  /// checkpoint_last.pt only on confirm_last() (once the next step's loss
  /// shows its weights are sound); discard_last() drops it.
  void save_last(const TrainState& state) const;
  void confirm_last() const;
  void discard_last() const;

 private:
  std::string path(const char* name) const;

  std::string dir_;
  bool writer_;
};

}  // namespace semifer::train
