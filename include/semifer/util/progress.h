#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "semifer/util/log.h"

namespace semifer::util {

/// A progress bar on one terminal line:
///   `label [#########.........] 45% 450/1000 | 12.3 it/s | ETA 0:00:44 |
///   extra`
/// redrawn in place (carriage return) at most every `min_interval` seconds
/// when the stream is a terminal. When it is not (a log file, a pipe, a
/// test), nothing is drawn in place: only message() lines appear, so logs
/// stay clean. Not thread-safe: one thread updates it.
class ProgressBar {
 public:
  /// Draws on `stream` (in place only when `interactive`); `total` is the
  /// count at 100%.
  ProgressBar(std::string label, int64_t total, std::ostream& stream,
              bool interactive);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Sets the count done (and text after the bar); redraws when due.
  void update(int64_t done, const std::string& extra = "");
  /// True when an update() now would redraw (an interactive bar whose last
  /// draw is old enough): callers skip formatting `extra` otherwise.
  bool due() const;
  /// Prints a whole line (above the bar, when one is drawn).
  void message(const std::string& line);
  /// Draws the final state and ends the line.
  void finish();

  /// True when stderr is a terminal (a bar there can be drawn in place).
  static bool stderr_is_terminal();
  /// "h:mm:ss".
  static std::string format_duration(double seconds);
  /// The bar's text for a state, without drawing (for tests).
  static std::string render(const std::string& label, int64_t done,
                            int64_t total, double rate,
                            const std::string& extra, int width = 20);

 private:
  void draw(bool force);

  std::string label_;
  int64_t total_;
  std::ostream* stream_;
  bool interactive_;
  bool drawn_ = false;
  bool finished_ = false;
  int64_t done_ = 0;
  int64_t first_done_ = -1;
  std::string extra_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// A LogSink for a terminal or a log file: messages as lines on `stream`,
/// progress as a ProgressBar drawn in place when `interactive` (else
/// progress is not shown, so logs stay clean). The CLI installs one on
/// std::cerr, interactive when stderr is a terminal.
class TerminalSink : public LogSink {
 public:
  TerminalSink(std::ostream& stream, bool interactive);
  ~TerminalSink() override;
  void message(const std::string& line) override;
  void progress(const std::string& label, int64_t done, int64_t total,
                const std::string& extra) override;
  void progress_end(const std::string& label) override;
  bool progress_due() const override;

 private:
  std::ostream* stream_;
  bool interactive_;
  std::unique_ptr<ProgressBar> bar_;
  std::string label_;
};

}  // namespace semifer::util
