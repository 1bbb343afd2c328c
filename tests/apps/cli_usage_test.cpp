// The CLI as a user meets it (issue 15): one error format with exit status 2
// for usage errors, did-you-mean for command words, `data synth` refusing a
// folder that is not empty, a resumed run saying what this invocation did,
// and the warning for a semi-supervised epoch without any pseudo-label.
#include <gtest/gtest.h>
#include <torch/version.h>

#include <filesystem>

#include "semifer/train/distributed.h"
#include "semifer/util/device.h"
#include "semifer/version.h"
#include "support/support.h"
#include "train_setup.h"

namespace semifer::test {

namespace fs = std::filesystem;

TEST(CliUsage, UsageErrorsAreOneLineWithStatusTwo) {
  RunResult r = run_cli({"trian", "x.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "semifer: error: unknown command 'semifer trian'; did you mean "
            "'semifer train'?\n");
  r = run_cli({"data", "stat", "x.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'semifer data stats'?"), std::string::npos)
      << r.err;
  r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the commands are "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train"), std::string::npos) << r.err;
  r = run_cli({"train"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("semifer: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("config is required"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_cli({"train", "x.yaml", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
  r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("train"), std::string::npos);
  r = run_cli({"train", "--help"});
  EXPECT_EQ(r.exit_code, 0);
}

// --version names what the build runs on, a line each, for bug reports.
TEST(CliUsage, VersionNamesLibTorchCudaBackendsAndOpenCV) {
  const RunResult r = run_cli({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int gpus = util::cuda_device_count();
  const std::string cuda =
      gpus == 0 ? "none (no CUDA LibTorch or no device)"
                : std::to_string(gpus) + (gpus == 1 ? " device" : " devices");
  EXPECT_EQ(r.out.substr(0, r.out.find("\nvideo: ")),
            std::string("semifer ") + kVersion + "\nLibTorch " + TORCH_VERSION +
                ", CUDA: " + cuda + "\ndata-parallel (c10d): Gloo" +
                (train::nccl_built() ? ", NCCL" : ""))
      << r.out;
  // The last line: OpenCV's version, or that video was not built.
  const std::string video = r.out.substr(r.out.find("\nvideo: ") + 8);
  EXPECT_TRUE(video.rfind("OpenCV 4.", 0) == 0 ||
              video == "not built (SEMIFER_VIDEO off)\n")
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
}

TEST(CliUsage, FlagErrorsNameTheFlagAndHelpShowsDefaults) {
  TempDir t;
  const std::string image = write_pattern(t.file("faces/a.png"));
  // A file where a folder is wanted, a value out of range: the flag named,
  // usage status 2.
  RunResult r = run_cli(
      {"augment", "preview", "--images", image, "--out", t.file("g.png")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--images"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("does not exist or is not a folder"), std::string::npos)
      << r.err;
  r = run_cli({"augment", "preview", "--images", t.file("faces"), "--out",
               t.file("g.png"), "--magnitude", "99"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--magnitude"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("randaugment_magnitude"), std::string::npos) << r.err;
  // Defaults in --help.
  r = run_cli({"eval", "--help"});
  EXPECT_NE(r.out.find("{auto,A,B}=auto"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--batch INT:POSITIVE=64"), std::string::npos) << r.out;
  r = run_cli({"augment", "preview", "--help"});
  EXPECT_NE(r.out.find("=112"), std::string::npos) << r.out;  // --size
  r = run_cli({"data", "synth", "--help"});
  EXPECT_NE(r.out.find("--seed UINT=0"), std::string::npos) << r.out;
}

TEST(CliUsage, AnUnknownModelNamesTheConfigLine) {
  TempDir t;
  std::string config = setup(t, "epochs: 1, steps_per_epoch: 2");
  write_text_file(config,
                  "data: data/data.yaml\naugment: {size: 32}\n"
                  "model: {name: smalnet}\ntrain: {epochs: 1}\n");
  const RunResult r = run_cli({"train", config, "--out", t.file("run")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("train.yaml:3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("model.name must name a zoo model"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("smallnet"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(t.file("run")));
}

TEST(CliUsage, SetErrorsNameTheFlag) {
  TempDir t;
  const std::string config = setup(t, "epochs: 1, steps_per_epoch: 2");
  // A rejected override is a usage error (exit status 2), as a bad flag is.
  RunResult r = run_cli({"train", config, "--set", "train.epochs=abc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("semifer: error: --set train.epochs=abc: ", 0), 0u)
      << r.err;
  EXPECT_NE(r.err.find("wrong type"), std::string::npos) << r.err;
  r = run_cli({"train", config, "--set", "ssl.tau=2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "semifer: error: --set ssl.tau=2: ssl.tau must lie in "
            "[0, 1], got 2\n");
  r = run_cli({"train", config, "--set", "ssl.tau=[1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err.rfind("semifer: error: --set ssl.tau=[1: not a YAML value", 0), 0u)
      << r.err;
  // The file's own errors still name the file and line.
  const std::string bad = write_text_file(
      t.file("bad.yaml"), "data: data/data.yaml\ntrain: {epochs: x}\n");
  r = run_cli({"train", bad, "--set", "train.lr=0.1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.yaml:2"), std::string::npos) << r.err;
}

TEST(CliUsage, SynthRefusesAFolderThatIsNotEmpty) {
  TempDir t;
  const std::string out = t.file("faces");
  fs::create_directories(out);
  write_text_file(out + "/stale.jpg", "old");
  RunResult r =
      run_cli({"data", "synth", out, "--size", "32", "--scale", "0.1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not empty"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out + "/stale.jpg"));
  EXPECT_FALSE(fs::exists(out + "/data.yaml"));
  r = run_cli(
      {"data", "synth", out, "--size", "32", "--scale", "0.1", "--overwrite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out + "/stale.jpg"));
  EXPECT_TRUE(fs::exists(out + "/data.yaml"));
}

TEST(CliUsage, AResumeSaysWhatThisInvocationTrained) {
  TempDir t;
  const std::string config = setup(
      t,
      "epochs: 1, steps_per_epoch: 4, batch_labeled: 8, batch_unlabeled: 8, "
      "log_every: 2, threads: 1");
  const std::string run = t.file("run");
  RunResult r = run_cli({"train", config, "--out", run, "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 4 steps; run folder"), std::string::npos)
      << r.out;
  r = run_cli({"train", config, "--out", run, "--quiet", "--resume", "--set",
               "train.epochs=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 4 steps (resumed at step 4, now at 8)"),
            std::string::npos)
      << r.out;
}

TEST(CliUsage, AnEpochWithoutPseudoLabelsIsWarnedOnce) {
  TempDir t;
  const std::string config = setup(
      t,
      "epochs: 2, steps_per_epoch: 3, batch_labeled: 8, batch_unlabeled: 8, "
      "log_every: 3, threads: 1");
  // A threshold above every confidence: nothing passes.
  RunResult r =
      run_cli({"train", config, "--out", t.file("run"), "--quiet", "--set",
               "ssl.thresholds=fixed", "--set", "ssl.tau=1.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string warning = "kept no pseudo-label at all (mask 0)";
  const size_t at = r.err.find(warning);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(warning, at + 1), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Thresholds: Neutral 1.00"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mean confidence"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("or use ssl.thresholds: dynamic"), std::string::npos)
      << r.err;
  // With the DTM on (the default), the advice says what it does next.
  r = run_cli({"train", config, "--out", t.file("run_dtm"), "--quiet", "--set",
               "ssl.tau=1.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("The DTM now moves the thresholds"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("or use ssl.thresholds: dynamic"), std::string::npos)
      << r.err;
  // With pseudo-labels passing, no warning.
  r = run_cli({"train", config, "--out", t.file("run2"), "--quiet", "--set",
               "ssl.thresholds=fixed", "--set", "ssl.tau=0.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find(warning), std::string::npos) << r.err;
}

}  // namespace semifer::test
