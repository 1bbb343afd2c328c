#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace semifer::util {

/// Where the library's messages and progress go. The library never prints:
/// it reports here, and the application installs a sink (set_log_sink);
/// until one is installed everything is discarded. The CLI installs a
/// TerminalSink on stderr. Calls come from one thread at a time (the
/// library serialises them).
class LogSink {
 public:
  virtual ~LogSink() = default;
  /// One whole line of information ("weights: loaded 312, ...").
  virtual void message(const std::string& line) = 0;
  /// Task `label` has done `done` of `total` units; `extra` is a short
  /// status ("epoch 2/10 | L_l 0.412"). Called often: a sink throttles.
  virtual void progress(const std::string& label, int64_t done, int64_t total,
                        const std::string& extra) {}
  /// The task `label` ended.
  virtual void progress_end(const std::string& label) {}
  /// True when a progress() call now would be shown, so callers can skip
  /// formatting `extra` otherwise.
  virtual bool progress_due() const { return false; }
};

/// Installs `sink` for the whole process (nullptr: discard again).
void set_log_sink(std::shared_ptr<LogSink> sink);
/// The installed sink, or nullptr.
std::shared_ptr<LogSink> log_sink();
/// Sends one line to the installed sink.
void log_message(const std::string& line);

/// A task's progress, sent to the installed sink: update() as work is done,
/// finish() (or destruction) at the end. Disabled, it sends nothing.
class Progress {
 public:
  Progress(std::string label, int64_t total, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(int64_t done, const std::string& extra = "");
  /// True when an update() now would be shown.
  bool due() const;
  /// A whole line (log_message), shown above the progress.
  void message(const std::string& line);
  void finish();

 private:
  std::string label_;
  int64_t total_;
  std::shared_ptr<LogSink> sink_;
  bool finished_ = false;
};

}  // namespace semifer::util
