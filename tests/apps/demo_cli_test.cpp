// `semifer demo` end to end, shortened (issue 6).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace fs = std::filesystem;

TEST(DemoCli, RunsTheWholeMethodAndPrintsTheTable) {
  TempDir t;
  const std::string out = t.file("demo");
  // Shortened from 450 + 600 steps to 450 + 300 (about 80 s on one core).
  const RunResult r = run_cli({"demo", "--out", out, "--pretrain-steps", "450",
                               "--steps", "300", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The table: a header with the 8 classes, three rows with 8 per-class F1
  // values and the macro F1, all percentages.
  EXPECT_NE(r.out.find("| method | Neutral | Anger | Disgust | Fear | "
                       "Happiness | Sadness | Surprise | Other | macro F1 |"),
            std::string::npos)
      << r.out;
  const std::regex row(R"(\| ([^|]+) \|((?: -?[0-9.]+ \|){9}))");
  std::vector<std::string> labels;
  std::vector<double> macro;
  for (const auto& line : util::split(r.out, '\n')) {
    std::smatch m;
    const std::string l(line);
    if (!std::regex_match(l, m, row)) continue;
    labels.push_back(m[1]);
    std::istringstream values(m[2].str());
    double v = 0, last = 0;
    char bar;
    while (values >> v >> bar) {
      EXPECT_GE(v, 0);
      EXPECT_LE(v, 100);
      last = v;
    }
    macro.push_back(last);
  }
  ASSERT_EQ(labels.size(), 3u) << r.out;
  EXPECT_EQ(labels[0], "Supervised");
  EXPECT_EQ(labels[1], "SSL + DTM");
  EXPECT_EQ(labels[2].rfind("SSL + DTM + smoothing", 0), 0u) << labels[2];
  // Every row learned something: the synthetic expressions are easy, and a
  // uniform guess scores 12.5% on 8 classes.
  for (double m : macro) EXPECT_GT(m, 20.0) << r.out;
  // The semi-supervised row beats the supervised one (issue 6): +2.16
  // points for this run (seed 0, one thread). The gain depends on the seed
  // (-0.5 to +2.2 over seeds 0-4 of this shortened run, +1.6 on average at
  // the demo's full length; docs/demo.md), so this checks this run only.
  EXPECT_GT(macro[1], macro[0]) << r.out;
  // What it leaves behind: configs a user can rerun, the runs, the report.
  for (const char* f :
       {"configs/supervised_stage.yaml", "configs/supervised.yaml",
        "configs/ssl_dtm.yaml", "data/demo.yaml",
        "runs/ssl_dtm/checkpoint_last.pt", "runs/supervised/metrics.jsonl",
        "runs/ssl_dtm/report.html"}) {
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  }
  const auto bytes =
      util::read_file((fs::path(out) / "runs/ssl_dtm/report.html").string());
  const std::string html(bytes.begin(), bytes.end());
  EXPECT_NE(html.find("id=\"plot-tau\""), std::string::npos);
  EXPECT_NE(r.out.find("runs/ssl_dtm/report.html"), std::string::npos);
}

TEST(DemoCli, RejectsBadFlags) {
  const RunResult r = run_cli({"demo", "--steps", "0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--steps: must be positive, got 0"), std::string::npos)
      << r.err;
  // Every command's number checks say what is wanted in one short line
  // (CLI11's own wrote the largest double out in 300 digits).
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"ablation", "x.yaml", "--out", "y", "--seeds", "0"},
       "--seeds: must be positive, got 0"},
      {{"data", "synth", "out", "--labeled-identities", "-1"},
       "--labeled-identities: must be 0 or more, got -1"},
      {{"--max-pixels", "0", "demo"}, "--max-pixels: must be positive, got 0"},
  };
  for (const auto& [args, want] : cases) {
    const RunResult bad = run_cli(args);
    EXPECT_EQ(bad.exit_code, 2) << args[0];
    EXPECT_NE(bad.err.find(want), std::string::npos) << bad.err;
    EXPECT_LT(bad.err.size(), 200u) << bad.err;
  }
}

}  // namespace semifer::test
