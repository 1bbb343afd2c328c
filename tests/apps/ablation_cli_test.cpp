// `semifer ablation` end to end on a small synthetic data set: two seeds,
// short rows; the tables' structure, the seeds' independence, the
// intervals against a direct calculation, and a rerun that keeps what is
// done.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "semifer/eval/statistics.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "support/support.h"
#include "train_setup.h"

namespace semifer::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json read_json(const std::string& path) {
  const auto bytes = util::read_file(path);
  return json::parse(bytes.begin(), bytes.end());
}

std::string read_text(const std::string& path) {
  const auto bytes = util::read_file(path);
  return {bytes.begin(), bytes.end()};
}

}  // namespace

TEST(AblationCli, TwoSeedsTablesIntervalsAndAResumableRerun) {
  TempDir t;
  const std::string config = setup(
      t,
      "epochs: 1, steps_per_epoch: 4, batch_labeled: 8, batch_unlabeled: 8, "
      "log_every: 2, threads: 2, device: cpu");
  const std::vector<std::string> args = {
      "ablation", config, "--out",       t.file("abl"), "--seeds", "2",
      "--rows",   "dtm",  "--bootstrap", "200",         "--quiet"};
  RunResult r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const json j = read_json(t.file("abl/ablation.json"));
  ASSERT_EQ(j["seeds"], json({0, 1}));
  const auto classes = j["classes"].get<std::vector<std::string>>();
  const auto& rows = j["rows"];
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["name"], "pretrain");
  EXPECT_EQ(rows[1]["name"], "supervised");  // added first
  EXPECT_EQ(rows[2]["name"], "dtm");
  for (const auto& row : rows) {
    ASSERT_EQ(row["run_dirs"].size(), 2u);
    for (const char* net : {"A", "B"}) {
      ASSERT_EQ(row[net]["macro_f1"].size(), 2u);
      ASSERT_EQ(row[net]["f1"][0].size(), classes.size());
    }
  }
  EXPECT_FALSE(rows[1]["B"].contains("difference"));
  ASSERT_TRUE(rows[2]["B"].contains("difference"));
  EXPECT_TRUE(rows[2].contains("pseudo_labels"));

  // The seeds are independent runs: their own train.seed, their own
  // supervised stage (different weights), each row starting from its seed's.
  for (int k : {0, 1}) {
    const std::string dir = t.file(str("abl/seed-", k));
    EXPECT_NE(read_text(dir + "/pretrain/config.yaml").find(str("seed: ", k)),
              std::string::npos);
    EXPECT_NE(read_text(dir + "/dtm/config.yaml")
                  .find(dir + "/pretrain/checkpoint_last.pt"),
              std::string::npos);
  }
  EXPECT_FALSE(torch::equal(
      student_weights(t.file("abl/seed-0/pretrain/checkpoint_last.pt")),
      student_weights(t.file("abl/seed-1/pretrain/checkpoint_last.pt"))));

  // Every score from the cached predictions, directly.
  const int nc = static_cast<int>(classes.size());
  std::vector<int64_t> labels;
  std::vector<std::vector<std::vector<int64_t>>> b(3);
  for (size_t i = 0; i < 3; ++i) {
    for (int k : {0, 1}) {
      const json p = read_json(rows[i]["run_dirs"][k].get<std::string>() +
                               "/validation_predictions.json");
      if (labels.empty()) labels = p["labels"].get<std::vector<int64_t>>();
      EXPECT_EQ(p["labels"].get<std::vector<int64_t>>(), labels);
      b[i].push_back(p["B"].get<std::vector<int64_t>>());
      EXPECT_NEAR(rows[i]["B"]["macro_f1"][k].get<double>(),
                  eval::macro_f1(labels, b[i].back(), nc), 1e-12);
    }
    const double m0 = rows[i]["B"]["macro_f1"][0],
                 m1 = rows[i]["B"]["macro_f1"][1];
    EXPECT_NEAR(rows[i]["B"]["macro_f1_mean"].get<double>(), (m0 + m1) / 2,
                1e-12);
    EXPECT_NEAR(rows[i]["B"]["macro_f1_std"].get<double>(),
                std::abs(m0 - m1) / std::sqrt(2.0), 1e-12);
  }
  EXPECT_EQ(j["validation_size"].get<size_t>(), labels.size());
  const auto& d = rows[2]["B"]["difference"];
  const double direct = ((eval::macro_f1(labels, b[2][0], nc) -
                          eval::macro_f1(labels, b[1][0], nc)) +
                         (eval::macro_f1(labels, b[2][1], nc) -
                          eval::macro_f1(labels, b[1][1], nc))) /
                        2;
  EXPECT_NEAR(d["estimate"].get<double>(), direct, 1e-12);
  eval::BootstrapOptions o;
  o.resamples = 200;
  const eval::Interval want = eval::paired_bootstrap(labels, b[2], b[1], nc, o);
  EXPECT_NEAR(d["low"].get<double>(), want.low, 1e-12);
  EXPECT_NEAR(d["high"].get<double>(), want.high, 1e-12);
  EXPECT_LE(d["low"].get<double>(), direct);
  EXPECT_GE(d["high"].get<double>(), direct);

  // The tables and the report page.
  const std::string md = read_text(t.file("abl/ablation.md"));
  for (const char* s : {"| Supervised only |", "| SSL + DTM |",
                        "| Supervised stage (start of every row) |",
                        "difference to supervised [95% CI]", "Network B",
                        "Network A", "mask rate"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;
  }
  for (const auto& c : classes) EXPECT_NE(md.find(c), std::string::npos) << c;
  EXPECT_NE(r.out.find("| SSL + DTM |"), std::string::npos) << r.out;
  const std::string html = read_text(t.file("abl/index.html"));
  EXPECT_NE(html.find("seed-1/dtm/report.html"), std::string::npos);
  EXPECT_TRUE(fs::exists(t.file("abl/seed-1/dtm/report.html")));

  // The same command again keeps every finished stage and gives the same
  // tables.
  const auto ckpt = t.file("abl/seed-1/dtm/checkpoint_last.pt");
  const auto before = fs::last_write_time(ckpt);
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::last_write_time(ckpt), before);
  EXPECT_EQ(read_json(t.file("abl/ablation.json")), j);

  // A changed config is refused by name, not silently mixed in.
  std::vector<std::string> changed = args;
  changed.insert(changed.end(), {"--set", "train.batch_labeled=4"});
  r = run_cli(changed);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("train.batch_labeled"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("seed-0/pretrain"), std::string::npos) << r.err;
}

TEST(AblationCli, UnknownRowsAndBadSpecsAreOneLineErrors) {
  TempDir t;
  const std::string config = setup(t, "epochs: 1, steps_per_epoch: 2");
  // Rows are flags: their errors are usage errors (exit status 2).
  RunResult r = run_cli({"ablation", config, "--out", t.file("a"), "--rows",
                         "supervised,nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown row 'nosuch'"), std::string::npos) << r.err;
  r = run_cli({"ablation", config, "--out", t.file("a"), "--row", "x:novalue"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'novalue' is not key=value"), std::string::npos)
      << r.err;
  r = run_cli({"ablation", config, "--out", t.file("a"), "--row",
               "pretrain:ssl.tau=0.9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a plain folder name other than pretrain"),
            std::string::npos)
      << r.err;
  r = run_cli({"ablation", config, "--out", t.file("a"), "--row",
               "mine:ssl.thresholds=sometimes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ssl.thresholds"), std::string::npos) << r.err;
}

}  // namespace semifer::test
