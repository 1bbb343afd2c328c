// What a Trainer leaves to the program that embeds it: LibTorch's intra-op
// threads and its deterministic switch are the process's, so a run sets them
// for its steps and puts the program's back when it ends.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "apps/train_setup.h"
#include "semifer/train/trainer.h"
#include "support/support.h"

namespace semifer::test {

TEST(Trainer, LeavesTheProcessThreadsAndDeterminismAsItFoundThem) {
  TempDir t;
  const std::string cfg = setup(t,
                                "epochs: 1, steps_per_epoch: 2, batch_labeled: "
                                "8, batch_unlabeled: 8, threads: 1");
  const int threads = at::get_num_threads();
  const int program = threads == 2 ? 3 : 2;  // not a count a run sets
  for (const std::vector<std::string>& keys :
       std::vector<std::vector<std::string>>{{"train.deterministic=true"},
                                             {"train.torch_threads=1"}}) {
    at::set_num_threads(program);
    at::globalContext().setDeterministicAlgorithms(false, false);
    const bool deterministic = keys[0] == "train.deterministic=true";
    train::RunOptions options;
    options.run_dir = t.file("run" + keys[0]);
    options.progress = false;
    std::vector<int> during;
    std::vector<bool> during_deterministic;
    options.after_backward = [&](train::TrainState&) {
      during.push_back(at::get_num_threads());
      during_deterministic.push_back(
          at::globalContext().deterministicAlgorithms());
    };
    train::run_training(train::load_train_config(cfg, keys), options);
    ASSERT_EQ(during.size(), 2u) << keys[0];
    EXPECT_EQ(during[0], 1) << keys[0];
    EXPECT_EQ(during_deterministic[0], deterministic) << keys[0];
    EXPECT_EQ(at::get_num_threads(), program) << keys[0];
    EXPECT_FALSE(at::globalContext().deterministicAlgorithms()) << keys[0];
  }
  // Also when the run stops in its constructor, after it set them: its
  // data gone.
  {
    at::set_num_threads(program);
    const auto config =
        train::load_train_config(cfg, {"train.deterministic=true"});
    std::filesystem::rename(t.file("data"), t.file("gone"));
    train::RunOptions options;
    options.run_dir = t.file("run-nodata");
    options.progress = false;
    EXPECT_THROW(train::run_training(config, options), std::exception);
    std::filesystem::rename(t.file("gone"), t.file("data"));
    EXPECT_EQ(at::get_num_threads(), program);
    EXPECT_FALSE(at::globalContext().deterministicAlgorithms());
  }
  // A program that runs deterministically keeps it after a run that does
  // not.
  at::globalContext().setDeterministicAlgorithms(true, false);
  train::RunOptions options;
  options.run_dir = t.file("run-default");
  options.progress = false;
  train::run_training(train::load_train_config(cfg, {}), options);
  EXPECT_TRUE(at::globalContext().deterministicAlgorithms());
  at::globalContext().setDeterministicAlgorithms(false, false);
  at::set_num_threads(threads);
}

}  // namespace semifer::test
