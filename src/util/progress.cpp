#include "semifer/util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace semifer::util {

namespace {
using clock = std::chrono::steady_clock;
constexpr double kMinInterval = 0.2;  // seconds between redraws
}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, std::ostream& stream,
                         bool interactive)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      stream_(&stream),
      interactive_(interactive),
      start_(clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (drawn_ && !finished_) *stream_ << "\n" << std::flush;
}

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

std::string ProgressBar::format_duration(double seconds) {
  const auto s = static_cast<long long>(std::max(seconds, 0.0));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60,
                s % 60);
  return buf;
}

std::string ProgressBar::render(const std::string& label, int64_t done,
                                int64_t total, double rate,
                                const std::string& extra, int width) {
  const double frac =
      total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 0;
  const int filled = static_cast<int>(frac * width);
  std::string out = label.empty() ? "" : label + " ";
  out +=
      "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%3d%% %lld/%lld | %.2f it/s | ETA ",
                static_cast<int>(frac * 100), static_cast<long long>(done),
                static_cast<long long>(total), rate);
  out += buf;
  out += rate > 0 ? format_duration((total - done) / rate) : "?";
  if (!extra.empty()) out += " | " + extra;
  return out;
}

void ProgressBar::update(int64_t done, const std::string& extra) {
  if (first_done_ < 0) {
    // A resumed run starts part-way: its rate counts from here.
    first_done_ = done;
    start_ = clock::now();
  }
  done_ = done;
  extra_ = extra;
  draw(false);
}

void ProgressBar::message(const std::string& line) {
  if (drawn_) *stream_ << "\r\033[K";
  *stream_ << line << "\n";
  if (drawn_) draw(true);
  *stream_ << std::flush;
}

void ProgressBar::finish() {
  if (finished_) return;
  draw(true);
  if (drawn_) *stream_ << "\n" << std::flush;
  finished_ = true;
}

bool ProgressBar::due() const {
  return interactive_ &&
         (!drawn_ ||
          std::chrono::duration<double>(clock::now() - last_draw_).count() >=
              kMinInterval);
}

void ProgressBar::draw(bool force) {
  if (!interactive_) return;
  if (!force && !due() && done_ < total_) return;
  const auto now = clock::now();
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate =
      secs > 0 ? (done_ - std::max<int64_t>(first_done_, 0)) / secs : 0;
  *stream_ << "\r\033[K" << render(label_, done_, total_, rate, extra_)
           << std::flush;
  drawn_ = true;
}

TerminalSink::TerminalSink(std::ostream& stream, bool interactive)
    : stream_(&stream), interactive_(interactive) {}

TerminalSink::~TerminalSink() = default;

void TerminalSink::message(const std::string& line) {
  if (bar_) {
    bar_->message(line);
  } else {
    *stream_ << line << "\n" << std::flush;
  }
}

void TerminalSink::progress(const std::string& label, int64_t done,
                            int64_t total, const std::string& extra) {
  if (!bar_ || label != label_) {
    bar_ = std::make_unique<ProgressBar>(label, total, *stream_, interactive_);
    label_ = label;
  }
  bar_->update(done, extra);
}

void TerminalSink::progress_end(const std::string& label) {
  if (bar_ && label == label_) {
    bar_->finish();
    bar_.reset();
  }
}

bool TerminalSink::progress_due() const {
  return interactive_ && (!bar_ || bar_->due());
}

}  // namespace semifer::util
