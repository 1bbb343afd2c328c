#include "semifer/train/run_folder.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "semifer/io/metrics_log.h"
#include "semifer/io/tfevents.h"
#include "semifer/train/state.h"
#include "semifer/util/atomic_file.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::train {

namespace {

// The files a run writes (and `semifer report` beside them); a folder
// holding any of them holds a run, and --overwrite removes them all.
constexpr const char* kRunFiles[] = {"config.yaml",
                                     "metrics.jsonl",
                                     "checkpoint_last.pt",
                                     "checkpoint_best.pt",
                                     "checkpoint_best_a.pt",
                                     "checkpoint_best_b.pt",
                                     "checkpoint_last.pt.unconfirmed",
                                     "metrics.csv",
                                     "report.html"};
constexpr const char* kUnconfirmed = "checkpoint_last.pt.unconfirmed";

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The run's files present in `dir`: the fixed names and the kept best
// checkpoints (checkpoint_step<N>.pt).
std::vector<std::string> present_run_files(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const char* name : kRunFiles) {
    if (fs::exists(fs::path(dir) / name, ec)) found.emplace_back(name);
  }
  if (!fs::is_directory(dir, ec)) return found;
  std::vector<std::string> steps;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if ((starts_with(name, "checkpoint_step") &&
         e.path().extension() == ".pt") ||
        starts_with(name, "events.out.tfevents."))
      steps.push_back(name);
  }
  std::sort(steps.begin(), steps.end());
  found.insert(found.end(), steps.begin(), steps.end());
  return found;
}

double now_seconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RunFolder::RunFolder(std::string dir, bool writer)
    : dir_(std::move(dir)), writer_(writer) {
  SEMIFER_CHECK(!dir_.empty(), "no run folder given");
}

RunFolder::~RunFolder() = default;
RunFolder::RunFolder(RunFolder&&) noexcept = default;
RunFolder& RunFolder::operator=(RunFolder&&) noexcept = default;

void RunFolder::set_metric_columns(const std::vector<std::string>& classes,
                                   bool semi_supervised) {
  columns_ = io::metrics_csv_columns(classes, semi_supervised);
}

void RunFolder::open_copies(const std::vector<io::MetricsLine>& lines) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (starts_with(name, "events.out.tfevents.")) fs::remove(e.path(), ec);
  }
  std::string csv;
  for (size_t i = 0; i < columns_.size(); ++i)
    csv += (i ? "," : "") + columns_[i];
  csv += "\n";
  for (const auto& line : lines)
    csv += io::metrics_csv_row(line, columns_) + "\n";
  util::write_file_atomically(path("metrics.csv"), csv);
  const double now = now_seconds();
  events_ =
      std::make_unique<io::EventWriter>(file(io::event_file_name(now)), now);
  for (const auto& line : lines)
    events_->write(line.step.value_or(0), now, io::metrics_scalars(line));
}

std::string RunFolder::path(const char* name) const {
  return (fs::path(dir_) / name).string();
}
std::string RunFolder::last_checkpoint() const {
  return path("checkpoint_last.pt");
}
std::string RunFolder::best_checkpoint() const {
  return path("checkpoint_best.pt");
}
bool RunFolder::has_last_checkpoint() const {
  std::error_code ec;
  return fs::is_regular_file(last_checkpoint(), ec);
}

bool RunFolder::stopped_before_checkpoint(
    const std::string& config_yaml) const {
  for (const auto& name : present_run_files(dir_)) {
    if (starts_with(name, "checkpoint")) return false;
  }
  std::error_code ec;
  if (!fs::is_regular_file(path("config.yaml"), ec)) return false;
  const auto bytes = util::read_file(path("config.yaml"));
  return std::string(bytes.begin(), bytes.end()) == config_yaml;
}

void RunFolder::start(bool overwrite) {
  if (!writer_) return;
  std::error_code ec;
  const auto present = present_run_files(dir_);
  if (!present.empty() && !overwrite) {
    std::string found;
    for (const auto& name : present)
      found += (found.empty() ? "" : ", ") + name;
    fail("run folder ", dir_, " holds another run (", found,
         "): pass --resume to continue it, --overwrite to replace it, or "
         "another --out");
  }
  for (const auto& name : present) {
    fs::remove(file(name), ec);
    SEMIFER_CHECK(!ec, "cannot remove ", file(name), ": ", ec.message());
  }
  fs::create_directories(dir_, ec);
  SEMIFER_CHECK(!ec, "cannot create run folder ", dir_, ": ", ec.message());
  // A fresh, empty metrics file: the run's lines follow.
  util::write_file_atomically(path("metrics.jsonl"), "");
  open_copies({});
}

void RunFolder::resume_at(int64_t step) {
  SEMIFER_CHECK(has_last_checkpoint(), "--resume: no checkpoint at ",
                last_checkpoint());
  if (!writer_) return;
  discard_last();
  const std::string metrics = path("metrics.jsonl");
  std::string kept;
  std::vector<io::MetricsLine> lines;
  std::error_code ec;
  if (fs::exists(metrics, ec)) {
    for (const auto& line : util::read_lines(metrics)) {
      if (util::trim(line).empty()) continue;
      try {
        const auto parsed = io::parse_metrics(line, metrics);
        if (!parsed.empty() && parsed[0].step.value_or(0) <= step) {
          kept += line + "\n";
          lines.push_back(parsed[0]);
        }
      } catch (const Error&) {
        // A line cut short when the run was killed mid-write.
      }
    }
  }
  util::write_file_atomically(metrics, kept);
  open_copies(lines);
}

void RunFolder::write_config(const std::string& yaml) const {
  if (writer_) util::write_file_atomically(path("config.yaml"), yaml);
}

void RunFolder::append_metrics(const io::MetricsLine& line) const {
  if (!writer_) return;
  const std::string file = path("metrics.jsonl");
  std::ofstream out(file, std::ios::app);
  out << io::format_metrics_line(line) << "\n" << std::flush;
  if (!out) {
    const int e = errno;
    fail("cannot write ", file, ": ", std::strerror(e));
  }
  const std::string csv = path("metrics.csv");
  std::ofstream c(csv, std::ios::app);
  c << io::metrics_csv_row(line, columns_) << "\n" << std::flush;
  if (!c) {
    const int e = errno;
    fail("cannot write ", csv, ": ", std::strerror(e));
  }
  if (events_)
    events_->write(line.step.value_or(0), now_seconds(),
                   io::metrics_scalars(line));
}

std::string RunFolder::file(const std::string& name) const {
  return (fs::path(dir_) / name).string();
}

void RunFolder::save_best(const TrainState& state, const std::string& name,
                          const std::string& selected) const {
  if (writer_) state.save(file(name), /*window=*/false, selected);
}

void RunFolder::remove(const std::string& name) const {
  if (!writer_) return;
  std::error_code ec;
  fs::remove(file(name), ec);
  SEMIFER_CHECK(!ec, "cannot remove ", file(name), ": ", ec.message());
}

void RunFolder::save_last(const TrainState& state) const {
  if (writer_) state.save(path(kUnconfirmed));
}

void RunFolder::confirm_last() const {
  if (!writer_) return;
  std::error_code ec;
  fs::rename(path(kUnconfirmed), last_checkpoint(), ec);
  SEMIFER_CHECK(!ec, "cannot write ", last_checkpoint(), ": ", ec.message());
  util::sync_folder(dir_);
}

void RunFolder::discard_last() const {
  std::error_code ec;
  if (writer_) fs::remove(path(kUnconfirmed), ec);
}

}  // namespace semifer::train
