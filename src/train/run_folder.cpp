#include "semifer/train/run_folder.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "semifer/io/atomic_file.h"
#include "semifer/io/metrics_log.h"
#include "semifer/train/state.h"
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
                                     "checkpoint_last.pt.unconfirmed",
                                     "report.html"};
constexpr const char* kUnconfirmed = "checkpoint_last.pt.unconfirmed";

}  // namespace

RunFolder::RunFolder(std::string dir, bool writer)
    : dir_(std::move(dir)), writer_(writer) {
  SEMIFER_CHECK(!dir_.empty(), "no run folder given");
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

void RunFolder::start(bool overwrite) {
  if (!writer_) return;
  std::error_code ec;
  std::string found;
  for (const char* name : kRunFiles) {
    if (fs::exists(path(name), ec))
      found += (found.empty() ? "" : ", ") + std::string(name);
  }
  if (!found.empty() && !overwrite) {
    fail("run folder ", dir_, " holds another run (", found,
         "): pass --resume to continue it, --overwrite to replace it, or "
         "another --out");
  }
  for (const char* name : kRunFiles) {
    fs::remove(path(name), ec);
    SEMIFER_CHECK(!ec, "cannot remove ", path(name), ": ", ec.message());
  }
  fs::create_directories(dir_, ec);
  SEMIFER_CHECK(!ec, "cannot create run folder ", dir_, ": ", ec.message());
  // A fresh, empty metrics file: the run's lines follow.
  io::write_file_atomically(path("metrics.jsonl"), "");
}

void RunFolder::resume_at(int64_t step) {
  SEMIFER_CHECK(has_last_checkpoint(), "--resume: no checkpoint at ",
                last_checkpoint());
  if (!writer_) return;
  discard_last();
  const std::string metrics = path("metrics.jsonl");
  std::string kept;
  std::error_code ec;
  if (fs::exists(metrics, ec)) {
    for (const auto& line : util::read_lines(metrics)) {
      if (util::trim(line).empty()) continue;
      try {
        const auto parsed = io::parse_metrics(line, metrics);
        if (!parsed.empty() && parsed[0].step.value_or(0) <= step)
          kept += line + "\n";
      } catch (const Error&) {
        // A line cut short when the run was killed mid-write.
      }
    }
  }
  io::write_file_atomically(metrics, kept);
}

void RunFolder::write_config(const std::string& yaml) const {
  if (writer_) io::write_file_atomically(path("config.yaml"), yaml);
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
}

void RunFolder::save_best(const TrainState& state) const {
  if (writer_) state.save(best_checkpoint(), /*window=*/false);
}

void RunFolder::save_last(const TrainState& state) const {
  if (writer_) state.save(path(kUnconfirmed));
}

void RunFolder::confirm_last() const {
  if (!writer_) return;
  std::error_code ec;
  fs::rename(path(kUnconfirmed), last_checkpoint(), ec);
  SEMIFER_CHECK(!ec, "cannot write ", last_checkpoint(), ": ", ec.message());
  io::sync_folder(dir_);
}

void RunFolder::discard_last() const {
  std::error_code ec;
  if (writer_) fs::remove(path(kUnconfirmed), ec);
}

}  // namespace semifer::train
