#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

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
  /// `stream` is std::cerr by default; `total` is the count at 100%.
  ProgressBar(std::string label, int64_t total, bool enabled = true);
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

  /// True when stderr is a terminal (the bar is drawn in place).
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

}  // namespace semifer::util
