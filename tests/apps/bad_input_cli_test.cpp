// Issue 16 at the command line: every error that reaches main is one line
// (LibTorch's backtrace only with SEMIFER_DEBUG), --max-pixels, a FIFO and a
// huge frame number as predict inputs, and JSON output for a file name that
// is not UTF-8.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "support/support.h"
#include "train_setup.h"

namespace semifer::test {

namespace {

size_t line_count(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// stderr without the warnings of an ASan build's allocator, which refuses
// the allocation (allocator_may_return_null=1, scripts/test --sanitize)
// before LibTorch's error: the sanitizer's lines, not the CLI's.
std::string without_asan_warnings(const std::string& err) {
  std::string out;
  for (size_t at = 0; at < err.size();) {
    const size_t end = std::min(err.find('\n', at), err.size() - 1) + 1;
    const std::string line = err.substr(at, end - at);
    if (line.find("WARNING: AddressSanitizer failed to allocate") ==
        std::string::npos)
      out += line;
    at = end;
  }
  return out;
}

// The last line of stderr.
std::string last_line(const std::string& err) {
  std::string s = err;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

}  // namespace

TEST(BadInputCli, LibTorchErrorsAreOneLineUnlessDebugging) {
  TempDir t;
  const std::string config = setup(t, "epochs: 1, steps_per_epoch: 2");
  // A batch no machine holds: LibTorch's allocator throws with a backtrace.
  const std::vector<std::string> args = {"train",  config,
                                         "--out",  t.file("run"),
                                         "--set",  "augment.size=4096",
                                         "--set",  "train.batch_labeled=65536",
                                         "--quiet"};
  RunResult r = run_cli(args);
  r.err = without_asan_warnings(r.err);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("semifer: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("can't allocate memory"), std::string::npos) << r.err;
  setenv("SEMIFER_DEBUG", "1", 1);
  r = run_cli({"train", config, "--out", t.file("run2"), "--set",
               "augment.size=4096", "--set", "train.batch_labeled=65536",
               "--quiet"});
  unsetenv("SEMIFER_DEBUG");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_GT(line_count(r.err), 3u) << r.err;  // the backtrace
}

TEST(BadInputCli, PredictRefusesBigImagesFifosAndHugeFrameNumbers) {
  TempDir t;
  const std::string config = setup(t, "epochs: 1, steps_per_epoch: 2");
  RunResult r = run_cli({"train", config, "--out", t.file("run"), "--set",
                         "ssl.enabled=false", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string ckpt = t.file("run/checkpoint_last.pt");
  const std::string face = write_pattern(t.file("faces/a.png"), 64, 64);
  // --max-pixels after the command word, as a user writes it.
  r = run_cli({"predict", "--checkpoint", ckpt, face, "--out", t.file("p.csv"),
               "--max-pixels", "1000"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(last_line(r.err).find("64x64 pixels is more than the limit of "
                                  "1000 (--max-pixels)"),
            std::string::npos)
      << r.err;
  r = run_cli(
      {"predict", "--checkpoint", ckpt, face, "--out", t.file("p.csv")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // A FIFO blocked predict forever.
  const std::string fifo = t.file("pipe.jpg");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  r = run_cli(
      {"predict", "--checkpoint", ckpt, fifo, "--out", t.file("q.csv")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("is not a regular file or a folder"), std::string::npos)
      << r.err;
  // Only clip/10000000.jpg: 1.2 GB and a 189 MB ABAW file before.
  write_pattern(t.file("clip/10000000.jpg"));
  r = run_cli({"predict", "--checkpoint", ckpt, t.file("clip"), "--abaw",
               t.file("abaw")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("frame number 10000000 is above 1000000"),
            std::string::npos)
      << r.err;
  // The previous CSV is still whole after the failed runs.
  EXPECT_EQ(util::read_lines(t.file("p.csv")).size(), 2u);
}

TEST(BadInputCli, JsonOutputSurvivesAFileNameThatIsNotUtf8) {
  TempDir t;
  write_pattern(t.file("faces/happy/a.png"));
  write_pattern(t.file("faces/sad/b.png"));
  // Not an image, under a name with an invalid UTF-8 byte.
  write_text_file(t.file("faces/happy/\xff\xfe.jpg"), "not a jpeg");
  const std::string data = write_text_file(
      t.file("data.yaml"),
      "labeled:\n  - {format: folder, root: faces, on_error: skip}\n");
  const RunResult r = run_cli({"data", "stats", data, "--json", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);  // throws on invalid JSON
  EXPECT_NE(r.out.find("\xef\xbf\xbd"), std::string::npos) << r.out;  // U+FFFD
  EXPECT_EQ(j["verified"]["failed"], 1);
}

}  // namespace semifer::test
