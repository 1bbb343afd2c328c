// Runs that lose nothing: `semifer train` refuses to overwrite another run,
// stops cleanly on SIGINT/SIGTERM, survives a failed write, refuses damaged
// checkpoints and changed configs on resume, and names a sound checkpoint
// when the loss diverges.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "backends/launch.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/util/strings.h"
#include "support/support.h"
#include "train_setup.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

// Runs `semifer ARGS` behind a shell prefix ("ulimit -f 100;").
RunResult run_cli_in_shell(const std::string& prefix,
                           const std::vector<std::string>& args) {
  TempDir tmp;
  std::string cmd = prefix + " exec '" + std::string(SEMIFER_CLI) + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  const std::string out = (tmp.path() / "out").string();
  const std::string err = (tmp.path() / "err").string();
  cmd = "sh -c \"" + cmd + "\" >'" + out + "' 2>'" + err + "' </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = text_of(out);
  r.err = text_of(err);
  return r;
}

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename();
    if (name.find(".tmp") != std::string::npos ||
        name.find(".unconfirmed") != std::string::npos)
      out.push_back(name);
  }
  return out;
}

bool wait_for_metrics(const std::string& path, size_t lines) {
  for (int i = 0; i < 6000; ++i) {
    std::error_code ec;
    if (fs::exists(path, ec) && util::read_lines(path).size() >= lines)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST(RunSafety, RefusesAnotherRunUnlessOverwrite) {
  TempDir t;
  const std::string config =
      setup(t,
            "epochs: 1, steps_per_epoch: 2, batch_labeled: 8, "
            "batch_unlabeled: 8");
  const std::string run = t.file("run");
  RunResult r = run_cli({"train", config, "--out", run, "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto before = util::read_file(run + "/metrics.jsonl");
  r = run_cli({"train", config, "--out", run, "--quiet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("holds another run"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  EXPECT_EQ(util::read_file(run + "/metrics.jsonl"), before);
  // --overwrite starts afresh: the old best checkpoint does not survive a
  // run that writes none (no validation data).
  const std::string no_val = write_text_file(
      t.file("noval.yaml"),
      "data: {classes: [Neutral, Happiness], labeled: [{format: folder, "
      "root: data/labeled}]}\naugment: {size: 32}\nssl: {enabled: false}\n"
      "train: {epochs: 1, steps_per_epoch: 2, batch_labeled: 4}\n");
  ASSERT_TRUE(fs::exists(run + "/checkpoint_best.pt"));
  r = run_cli({"train", no_val, "--out", run, "--quiet", "--overwrite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(run + "/checkpoint_best.pt"));
  EXPECT_EQ(metric_lines(run + "/metrics.jsonl").size(), 1u);
  r = run_cli({"train", config, "--out", run, "--resume", "--overwrite"});
  EXPECT_NE(r.exit_code, 0);
}

// --auto-resume: the one command a restarting job repeats. It starts an
// empty folder, continues one with a checkpoint, starts again where the same
// config stopped before its first checkpoint, and refuses another run.
TEST(RunSafety, AutoResumeStartsContinuesOrRefuses) {
  TempDir t;
  const std::string config =
      setup(t,
            "epochs: 1, steps_per_epoch: 3, batch_labeled: 8, "
            "batch_unlabeled: 8, log_every: 3");
  const std::string run = t.file("run");
  RunResult r = run_cli({"train", config, "--out", run, "--auto-resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("(new run)"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("trained 3 steps; run folder"), std::string::npos)
      << r.out;
  r = run_cli({"train", config, "--out", run, "--auto-resume", "--set",
               "train.epochs=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("(resuming at step 3)"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("trained 3 steps (resumed at step 3, now at 6)"),
            std::string::npos)
      << r.out;
  // The same config, stopped before its first checkpoint: started again.
  for (const auto& e : fs::directory_iterator(run))
    if (e.path().filename().string().rfind("checkpoint", 0) == 0)
      fs::remove(e.path());
  r = run_cli({"train", config, "--out", run, "--auto-resume", "--set",
               "train.epochs=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("holds no checkpoint of this run; starting it again"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("trained 6 steps; run folder"), std::string::npos)
      << r.out;
  EXPECT_EQ(metric_lines(run + "/metrics.jsonl").size(), 2u);
  // Another config's folder without a checkpoint is not taken over.
  for (const auto& e : fs::directory_iterator(run))
    if (e.path().filename().string().rfind("checkpoint", 0) == 0)
      fs::remove(e.path());
  const auto before = util::read_file(run + "/metrics.jsonl");
  r = run_cli({"train", config, "--out", run, "--auto-resume", "--set",
               "train.epochs=3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("holds another run"), std::string::npos) << r.err;
  EXPECT_EQ(util::read_file(run + "/metrics.jsonl"), before);
  // It goes with neither --resume nor --overwrite.
  r = run_cli({"train", config, "--out", run, "--auto-resume", "--resume"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

TEST(RunSafety, SigintWritesACheckpointAndTheRunResumes) {
  TempDir t;
  const std::string config = setup(
      t,
      "epochs: 100, steps_per_epoch: 10, batch_labeled: 8, batch_unlabeled: 8, "
      "log_every: 2, checkpoint_every: 1000");
  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string run = t.file("run" + std::to_string(sig));
    const std::string err = t.file("err" + std::to_string(sig));
    // SIGTERM's run has --auto-resume: the hint repeats that flag. It runs
    // as the one rank of a job whose launcher has restarts left (as
    // launch --max-restarts stops the ranks that did not fail): the hint
    // says that the job may start again by itself.
    std::vector<std::string> args = {"train", config, "--out", run};
    std::vector<std::string> env;
    if (sig == SIGTERM) {
      args.push_back("--auto-resume");
      env = {"RANK=0",
             "WORLD_SIZE=1",
             "MASTER_ADDR=127.0.0.1",
             "MASTER_PORT=" + std::to_string(launch::free_port()),
             "TORCHELASTIC_RESTART_COUNT=1",
             "TORCHELASTIC_MAX_RESTARTS=3"};
    }
    const pid_t pid = start_cli(args, "", err, env);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_for_metrics(run + "/metrics.jsonl", 2));
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal";
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
    const std::string text = text_of(err);
    EXPECT_NE(text.find("--out " + run +
                        (sig == SIGTERM ? " --auto-resume" : " --resume")),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("(unless the launcher starts the job again: 2 "
                        "restarts left)") != std::string::npos,
              sig == SIGTERM)
        << text;
    EXPECT_TRUE(leftovers(run).empty());
    // The checkpoint holds the step the run stopped at.
    const int64_t stopped =
        infer::read_checkpoint_card(run + "/checkpoint_last.pt").step;
    EXPECT_GE(stopped, 4);
    EXPECT_LT(stopped, 1000);
    EXPECT_NE(text.find("after step " + std::to_string(stopped)),
              std::string::npos)
        << text;
    if (sig == SIGTERM) continue;
    // Resume, with fewer epochs so that it ends soon (an allowed change).
    const int64_t epochs = (stopped + 3) / 10 + 1;
    const RunResult r =
        run_cli({"train", config, "--out", run, "--resume", "--set",
                 "train.epochs=" + std::to_string(epochs)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("train.epochs changed from 100 to " +
                         std::to_string(epochs)),
              std::string::npos)
        << r.err;
    EXPECT_EQ(infer::read_checkpoint_card(run + "/checkpoint_last.pt").step,
              epochs * 10);
    int64_t last = 0;
    for (const auto& line : metric_lines(run + "/metrics.jsonl")) {
      EXPECT_GT(line["step"].get<int64_t>(), last);
      last = line["step"].get<int64_t>();
    }
    EXPECT_EQ(last, epochs * 10);
  }
}

TEST(RunSafety, AFailedCheckpointWriteIsOneLineAndLosesNothing) {
  TempDir t;
  const std::string config = setup(
      t, "epochs: 1, steps_per_epoch: 4, batch_labeled: 8, batch_unlabeled: 8");
  const std::string run = t.file("run");
  // A file size limit makes writes past ~500 kB fail as a full disk does
  // (EFBIG with SIGXFSZ ignored): config.yaml and metrics lines fit, a
  // checkpoint does not.
  const RunResult r =
      run_cli_in_shell("ulimit -f 1000; trap '' XFSZ;",
                       {"train", config, "--out", run, "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("semifer: error: cannot write " + run),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  // The error is one line (warnings before it are lines of their own).
  const std::string error = r.err.substr(r.err.find("semifer: error: "));
  EXPECT_EQ(error.find('\n'), error.size() - 1) << "not one line: " << r.err;
  EXPECT_TRUE(leftovers(run).empty());
  EXPECT_FALSE(fs::exists(run + "/checkpoint_last.pt"));
}

TEST(RunSafety, ADamagedCheckpointIsRefused) {
  TempDir t;
  const std::string config = setup(
      t, "epochs: 1, steps_per_epoch: 2, batch_labeled: 8, batch_unlabeled: 8");
  const std::string run = t.file("run");
  ASSERT_EQ(run_cli({"train", config, "--out", run, "--quiet"}).exit_code, 0);
  const std::string ckpt = run + "/checkpoint_last.pt";
  auto bytes = util::read_file(ckpt);
  for (size_t i = 0; i < 8; ++i) bytes[bytes.size() / 3 + i] ^= 0xa5;
  write_text_file(ckpt, std::string(bytes.begin(), bytes.end()));
  RunResult r = run_cli(
      {"eval", "--checkpoint", ckpt, "--data", t.file("data/data.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(ckpt), std::string::npos) << r.err;
  r = run_cli({"train", config, "--out", run, "--resume", "--quiet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
}

TEST(RunSafety, ResumeRefusesAChangedRunAndRecordsAllowedChanges) {
  TempDir t;
  const std::string config = setup(
      t, "epochs: 1, steps_per_epoch: 4, batch_labeled: 8, batch_unlabeled: 8");
  const std::string run = t.file("run");
  ASSERT_EQ(run_cli({"train", config, "--out", run, "--quiet"}).exit_code, 0);
  // Reordered classes would relabel the per-class weights and thresholds.
  std::string data = text_of(t.file("data/data.yaml"));
  const auto at = data.find("classes:");
  ASSERT_NE(at, std::string::npos);
  const auto end = data.find('\n', at);
  data = data.substr(0, at) +
         "classes: [Anger, Neutral, Disgust, Fear, Happiness, Sadness, "
         "Surprise, Other]" +
         data.substr(end);
  write_text_file(t.file("data/reordered.yaml"), data);
  const std::string reordered = write_text_file(
      t.file("reordered.yaml"),
      "data: data/reordered.yaml\naugment: {size: 32}\nmodel: {name: "
      "smallnet}\ntrain: {epochs: 2, steps_per_epoch: 4, batch_labeled: 8, "
      "batch_unlabeled: 8}\nssl: {dtm_per_class: 10}\n");
  RunResult r = run_cli({"train", reordered, "--out", run, "--resume"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("data.classes"), std::string::npos) << r.err;
  r = run_cli({"train", config, "--out", run, "--resume", "--set",
               "ssl.tau=0.5", "--set", "model.name=resnet18"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ssl.tau"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("model.name"), std::string::npos) << r.err;
  // Nothing of the run was touched by the refusals.
  EXPECT_EQ(metric_lines(run + "/metrics.jsonl").back()["step"], 4);
  // A new learning rate and more epochs are allowed, logged and recorded.
  r = run_cli({"train", config, "--out", run, "--resume", "--set",
               "train.lr=0.0001", "--set", "train.epochs=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("train.lr changed from 0.0005 to 0.0001"),
            std::string::npos)
      << r.err;
  const std::string resolved = text_of(run + "/config.yaml");
  EXPECT_NE(resolved.find("lr: 0.0001"), std::string::npos) << resolved;
  const auto lines = metric_lines(run + "/metrics.jsonl");
  EXPECT_EQ(lines.back()["step"], 8);
  EXPECT_DOUBLE_EQ(lines.back()["lr"].get<double>(), 0.0001);
}

TEST(RunSafety, ADivergingRunNamesASoundCheckpoint) {
  TempDir t;
  const std::string config = setup(
      t,
      "epochs: 1, steps_per_epoch: 4, batch_labeled: 8, batch_unlabeled: 8, "
      "checkpoint_every: 1");
  const std::string run = t.file("run");
  ASSERT_EQ(run_cli({"train", config, "--out", run, "--quiet"}).exit_code, 0);
  // Resumed with a learning rate that blows the weights up at once.
  const RunResult r =
      run_cli({"train", config, "--out", run, "--resume", "--quiet", "--set",
               "train.lr=1e30", "--set", "train.epochs=3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the loss is"), std::string::npos) << r.err;
  const std::string named = run + "/checkpoint_last.pt (step 4)";
  EXPECT_NE(r.err.find("last good checkpoint is " + named), std::string::npos)
      << r.err;
  EXPECT_EQ(infer::read_checkpoint_card(run + "/checkpoint_last.pt").step, 4);
  const at::Tensor w = student_weights(run + "/checkpoint_last.pt");
  EXPECT_TRUE(w.isfinite().all().item<bool>());
  EXPECT_LT(w.abs().max().item<double>(), 1e3);
  EXPECT_TRUE(leftovers(run).empty());
}

}  // namespace semifer::test
