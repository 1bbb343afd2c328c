#include "semifer/util/log.h"

#include <mutex>

namespace semifer::util {

namespace {

std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
std::shared_ptr<LogSink>& installed() {
  static std::shared_ptr<LogSink> sink;
  return sink;
}

}  // namespace

void set_log_sink(std::shared_ptr<LogSink> sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  installed() = std::move(sink);
}

std::shared_ptr<LogSink> log_sink() {
  std::lock_guard<std::mutex> lock(sink_mutex());
  return installed();
}

void log_message(const std::string& line) {
  if (auto sink = log_sink()) sink->message(line);
}

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      sink_(enabled ? log_sink() : nullptr) {}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done, const std::string& extra) {
  if (sink_ && !finished_) sink_->progress(label_, done, total_, extra);
}

bool Progress::due() const {
  return sink_ && !finished_ && sink_->progress_due();
}

void Progress::message(const std::string& line) {
  if (sink_) sink_->message(line);
}

void Progress::finish() {
  if (sink_ && !finished_) sink_->progress_end(label_);
  finished_ = true;
}

}  // namespace semifer::util
