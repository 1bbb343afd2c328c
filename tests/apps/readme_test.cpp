// The README's walk-through, line by line, as a new user runs it from the
// repository root: it must work and give a model worth using.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

// The commands between the walkthrough markers, comments removed, split
// into words (the lines use no quotes).
std::vector<std::vector<std::string>> walkthrough() {
  const auto lines =
      util::read_lines(std::string(SEMIFER_SOURCE_DIR) + "/README.md");
  std::vector<std::vector<std::string>> commands;
  bool inside = false;
  for (const auto& line : lines) {
    if (line.find("<!-- walkthrough: begin -->") != std::string::npos) {
      inside = true;
      continue;
    }
    if (line.find("<!-- walkthrough: end -->") != std::string::npos) break;
    if (!inside || line.rfind("build/semifer ", 0) != 0) continue;
    std::string text = line.substr(0, line.find('#'));
    std::vector<std::string> words;
    for (const auto w : util::split_ws(text)) words.emplace_back(w);
    commands.push_back(
        std::vector<std::string>(words.begin() + 1, words.end()));
  }
  return commands;
}

struct Chdir {
  fs::path old = fs::current_path();
  explicit Chdir(const fs::path& to) { fs::current_path(to); }
  ~Chdir() { fs::current_path(old); }
};

}  // namespace

TEST(Readme, WalkThroughGivesAModelWorthUsing) {
  const auto commands = walkthrough();
  ASSERT_EQ(commands.size(), 6u) << "README.md's walk-through changed";
  TempDir t;
  // The repository root as the walk-through sees it: examples/, and runs/
  // written fresh.
  fs::create_directories(t.file("examples"));
  fs::copy_file(std::string(SEMIFER_SOURCE_DIR) + "/examples/first-run.yaml",
                t.file("examples/first-run.yaml"));
  Chdir here(t.path());
  std::string eval_out, all_err;
  for (const auto& args : commands) {
    const RunResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    if (args[0] == "eval") eval_out = r.out;
    all_err += r.err;
  }
  // The files the README names.
  for (const char* f : {"runs/data/data.yaml", "runs/first/checkpoint_best.pt",
                        "runs/first/predictions.csv", "runs/first/report.html",
                        "runs/first/metrics.csv"}) {
    EXPECT_TRUE(fs::exists(t.file(f))) << f;
  }
  // No degenerate-model warning, and a macro F1 over three times chance (1/8).
  EXPECT_EQ(all_err.find("warning"), std::string::npos) << all_err;
  const auto at = eval_out.find("macro F1 ");
  ASSERT_NE(at, std::string::npos) << eval_out;
  const double f1 = std::stod(eval_out.substr(at + 9));
  EXPECT_GT(f1, 0.4) << eval_out;
  std::cout << "walk-through: macro F1 " << f1 << std::endl;
  // One prediction row per validation image.
  const auto rows = util::read_lines(t.file("runs/first/predictions.csv"));
  const auto list = util::read_lines(t.file("runs/data/validation/list.csv"));
  EXPECT_EQ(rows.size(), list.size());
}

}  // namespace semifer::test
