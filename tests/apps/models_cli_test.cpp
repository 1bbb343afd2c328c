// The weights commands and the benchmarks of the CLI (bench train: also its
// back-end, for what the printed table leaves out).
#include <gtest/gtest.h>

#include <algorithm>

#include "backends/train_bench.h"
#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "support/support.h"

namespace semifer::test {

TEST(WeightsCli, InspectImportExport) {
  TempDir t;
  models::export_weights(
      *models::create_model("smallnet", models::ModelOptions{1000}),
      t.file("in.pth"));
  RunResult r = run_cli({"weights", "inspect", t.file("in.pth")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("matches smallnet (1000 classes)"), std::string::npos)
      << r.out;
  r = run_cli({"weights", "import", t.file("in.pth"), "--model", "smallnet",
               "--out", t.file("ours.pth")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("replaced 2"), std::string::npos) << r.out;
  r = run_cli({"weights", "export", t.file("ours.pth"), "--model", "smallnet",
               "--out", t.file("back.pth")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"weights", "export", t.file("ours.pth"), "--model", "smallnet",
               "--num-classes", "3", "--out", t.file("x.pth")});
  EXPECT_EQ(r.exit_code, 1);
  r = run_cli({"weights", "import", t.file("in.pth"), "--model", "resnet18",
               "--out", t.file("x.pth")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another architecture"), std::string::npos) << r.err;
  r = run_cli({"weights", "import", t.file("in.pth"), "--model", "vgg", "--out",
               t.file("x.pth")});
  EXPECT_NE(r.err.find("unknown model 'vgg'"), std::string::npos) << r.err;
  r = run_cli({"weights", "inspect", t.file("missing.pth")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.pth"), std::string::npos) << r.err;
}

TEST(BenchCli, InferPrintsImagesPerSecond) {
  const RunResult r =
      run_cli({"bench", "infer", "--model", "smallnet", "--size", "32",
               "--batch", "2", "--threads", "1", "--seconds", "0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("images/s"), std::string::npos) << r.out;
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"weights", "inspect", "--help"},
                                             {"weights", "import", "--help"},
                                             {"weights", "export", "--help"},
                                             {"bench", "infer", "--help"}}) {
    EXPECT_NE(run_cli(args).out.find("Example"), std::string::npos) << args[1];
  }
}

namespace {

// The number before `unit` in `text` ("424.3 images/s" -> 424.3).
double number_before(const std::string& text, const std::string& unit) {
  const size_t at = text.find(" " + unit);
  if (at == std::string::npos) return -1;
  const size_t start = text.rfind(' ', at - 1);
  return std::stod(
      text.substr(start == std::string::npos ? 0 : start + 1,
                  at - (start == std::string::npos ? 0 : start + 1)));
}

}  // namespace

// semifer bench train runs the production Trainer on fixed tensors: its
// figures agree with each other (images per step = labeled + unlabeled),
// --set reaches the config, and bad flags are one-line errors.
TEST(BenchCli, TrainTimesWholeStepsOfTheTrainer) {
  RunResult r = run_cli({"bench", "train", "--steps", "2", "--warmup", "1",
                         "--window", "1", "--batch", "4", "--unlabeled", "6",
                         "--torch-threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double images = number_before(r.out, "images/s");
  const double steps = number_before(r.out, "steps/s");
  ASSERT_GT(images, 0) << r.out;
  ASSERT_GT(steps, 0) << r.out;
  EXPECT_NEAR(images / steps, 10.0, 0.2) << r.out;
  EXPECT_NE(r.out.find("median of 2 windows of 1 steps"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("semi-supervised 4+6 per step"), std::string::npos)
      << r.out;

  r = run_cli({"bench", "train", "--steps", "1", "--warmup", "0", "--window",
               "1", "--batch", "4", "--torch-threads", "1", "--device", "cpu",
               "--set", "ssl.enabled=false", "--set", "train.cuda_graph=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("supervised 4 per step"), std::string::npos) << r.out;
  // What happened to the graph is said under the result (here on the CPU:
  // why the steps ran eagerly).
  EXPECT_NE(r.out.find("\ntrain.cuda_graph: CUDA graphs need a CUDA device; "
                       "the run is on cpu; steps run eagerly\n"),
            std::string::npos)
      << r.out;
  EXPECT_NEAR(
      number_before(r.out, "images/s") / number_before(r.out, "steps/s"), 4.0,
      0.1)
      << r.out;

  r = run_cli({"bench", "train", "--steps", "3", "--window", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("must be multiples of --window"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_cli({"bench", "train", "--steps", "1", "--window", "1", "--warmup",
               "0", "--set", "train.optimizer_kernels=fast"});
  EXPECT_EQ(r.exit_code, 2);  // a --set: a usage error
  EXPECT_NE(r.err.find("train.optimizer_kernels"), std::string::npos) << r.err;
  EXPECT_NE(run_cli({"bench", "train", "--help"}).out.find("Example"),
            std::string::npos);
}

// bench train --profile times the measured steps only: the metric window's
// one isfinite per step, not the stopped run's checkpoint check of every
// weight.
TEST(BenchTrain, TheProfileHoldsTheMeasuredStepsOnly) {
  train::TrainBenchConfig c;
  c.steps = 3;
  c.warmup = 1;
  c.window = 1;
  c.batch_labeled = 4;
  c.batch_unlabeled = 4;
  c.torch_threads = 1;
  c.device = "cpu";
  c.profile = true;
  const train::TrainBenchResult r = train::bench_training(c);
  int64_t calls = -1;
  for (const auto& op : r.profile)
    if (op.name == "aten::isfinite") calls = op.calls;
  EXPECT_EQ(calls, 3);
}

}  // namespace semifer::test
