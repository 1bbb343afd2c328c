// Data-parallel runs from the command line (issue 13): `semifer launch`
// end to end, a resume after the whole job is killed, restarts after a rank
// is killed (one launcher, two launchers as two machines, and torchrun
// itself), and a rank killed mid-run, which the others report by rank
// within their timeout; the documented srun line under a stand-in for
// Slurm.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>

#include "backends/launch.h"
#include "semifer/util/strings.h"
#include "support/support.h"
#include "train_setup.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int64_t> steps_of(const std::string& metrics) {
  std::vector<int64_t> out;
  for (const auto& l : metric_lines(metrics)) out.push_back(l["step"]);
  return out;
}

// A finished run's metric lines: one per logged step, none repeated (a
// restart continues where its checkpoint was, dropping the lines after it),
// up to step `last`.
void expect_each_step_once(const std::string& run, int64_t last) {
  const auto steps = steps_of(run + "/metrics.jsonl");
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back(), last);
  for (size_t i = 1; i < steps.size(); ++i)
    EXPECT_LT(steps[i - 1], steps[i]) << "metric lines repeat a step";
}

// The last child process of `pid` (a launcher's children are its ranks),
// or 0.
pid_t last_child(pid_t pid) {
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" +
                         std::to_string(pid) + "/children");
  pid_t last = 0;
  for (pid_t p = 0; children >> p;) last = p;
  return last;
}

// Waits for the run's first checkpoint, then kills the last rank of the
// launcher `launcher` (its children are its ranks) with SIGKILL; false
// when either is not there.
bool kill_a_rank_after_the_first_checkpoint(pid_t launcher,
                                            const std::string& run) {
  if (!wait_for_file(run + "/checkpoint_last.pt", 240)) return false;
  const pid_t rank = last_child(launcher);
  return rank > 0 && kill(rank, SIGKILL) == 0;
}

// Ranks 0 and 1 of a job, `semifer args0` and `semifer args1`, started
// with torchrun's variables (no launcher), each in a process group of its
// own; stdout and stderr to TempDir's out0/err0 and out1/err1.
std::pair<pid_t, pid_t> start_two_ranks(const TempDir& t,
                                        const std::vector<std::string>& args0,
                                        const std::vector<std::string>& args1) {
  const std::vector<std::string> env = {
      "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
      "MASTER_PORT=" + std::to_string(launch::free_port())};
  auto rank = [&](const std::string& r, const std::vector<std::string>& args) {
    auto e = env;
    e.push_back("RANK=" + r);
    return start_cli(args, t.file("out" + r), t.file("err" + r), e, true);
  };
  const pid_t r0 = rank("0", args0);
  return {r0, rank("1", args1)};
}

// Two ranks of `semifer train config --out run`; returns once the run has
// its first checkpoint.
std::pair<pid_t, pid_t> two_training_ranks(const TempDir& t,
                                           const std::string& config,
                                           const std::string& run) {
  const std::vector<std::string> args = {"train", config, "--out", run};
  const auto ranks = start_two_ranks(t, args, args);
  EXPECT_TRUE(wait_for_file(run + "/checkpoint_last.pt", 240))
      << text_of(t.file("err0"));
  return ranks;
}

const char* kLong =
    "epochs: 40, steps_per_epoch: 10, batch_labeled: 8, batch_unlabeled: 8, "
    "log_every: 5, checkpoint_every: 10, threads: 1, torch_threads: 1, "
    "distributed: {timeout_s: 20}";

}  // namespace

TEST(LaunchCli, TwoRanksWriteOneRun) {
  TempDir t;
  const std::string config =
      setup(t,
            "epochs: 2, steps_per_epoch: 5, batch_labeled: 8, "
            "batch_unlabeled: 8, log_every: 5, threads: 1, torch_threads: 1");
  const std::string run = t.file("run");
  const RunResult r =
      run_cli({"launch", "--nproc", "2", "--", "train", config, "--out", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[rank 0] trained 10 steps"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("[rank 1]"), std::string::npos) << r.out;
  // One writer: each metric line once, in order.
  EXPECT_EQ(steps_of(run + "/metrics.jsonl"), (std::vector<int64_t>{5, 10}));
  EXPECT_TRUE(fs::exists(run + "/checkpoint_last.pt"));
  // A resume needs the world size that wrote the checkpoint.
  RunResult one = run_cli({"train", config, "--out", run, "--resume", "--set",
                           "train.epochs=3", "--quiet"});
  EXPECT_EQ(one.exit_code, 1);
  EXPECT_NE(one.err.find("written by a run of 2 ranks; this one has 1"),
            std::string::npos)
      << one.err;
  EXPECT_EQ(steps_of(run + "/metrics.jsonl"), (std::vector<int64_t>{5, 10}));
  // Bad launches are one-line errors.
  RunResult bad = run_cli({"launch", "--nproc", "2"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("no command after --"), std::string::npos) << bad.err;
  bad = run_cli(
      {"launch", "--nproc", "2", "--nnodes", "2", "--", "train", config});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--master"), std::string::npos) << bad.err;
}

// `bench train` joins the job as `train` does: each rank times its steps
// of the data-parallel run (its all-reduce included).
TEST(LaunchCli, BenchTrainRunsAsTheRanksOfAJob) {
  const RunResult r = run_cli({"launch", "--nproc", "2", "--", "bench", "train",
                               "--steps", "10", "--warmup", "10", "--window",
                               "10", "--torch-threads", "1", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string rank : {"0", "1"}) {
    const size_t at = r.out.find("[rank " + rank + "] ");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" images/s (median of 1 windows", at),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("data synthetic, rank " + rank + " of 2)", at),
              std::string::npos)
        << r.out;
  }
}

TEST(LaunchCli, ResumesAfterTheWholeJobIsKilled) {
  TempDir t;
  const std::string config = setup(t, kLong);
  const std::string run = t.file("run");
  const pid_t job =
      start_cli({"launch", "--nproc", "2", "--", "train", config, "--out", run},
                t.file("out"), t.file("err"), {}, true);
  ASSERT_TRUE(wait_for_file(run + "/checkpoint_last.pt", 240))
      << text_of(t.file("err"));
  // The launcher dies by SIGKILL; its ranks die with it.
  kill(job, SIGKILL);
  EXPECT_EQ(wait_exit(job, 30), 128 + SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const RunResult r =
      run_cli({"launch", "--nproc", "2", "--", "train", config, "--out", run,
               "--resume", "--set", "train.epochs=4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_each_step_once(run, 40);
}

// `launch --max-restarts` with `train --auto-resume`: a rank killed mid-run
// stops the job, which starts again and continues from the checkpoint.
TEST(LaunchCli, MaxRestartsContinueTheRunAfterARankIsKilled) {
  TempDir t;
  const std::string config = setup(t, kLong);
  const std::string run = t.file("run");
  const pid_t job = start_cli(
      {"launch", "--nproc", "2", "--max-restarts", "1", "--", "train", config,
       "--out", run, "--auto-resume", "--set", "train.epochs=6"},
      t.file("out"), t.file("err"), {}, true);
  ASSERT_TRUE(kill_a_rank_after_the_first_checkpoint(job, run))
      << text_of(t.file("err"));
  const int code = wait_exit(job, 240);
  if (code == -1) kill(job, SIGKILL);
  const std::string err = text_of(t.file("err"));
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(err.find("starting every rank again (restart 1 of 1)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("(resuming at step "), std::string::npos) << err;
  EXPECT_NE(text_of(t.file("out")).find("now at 60)"), std::string::npos)
      << text_of(t.file("out"));
  expect_each_step_once(run, 60);
  // A restarted start without --auto-resume is told why it cannot go on.
  const pid_t again =
      start_cli({"train", config, "--out", run, "--quiet"}, "", t.file("err2"),
                {"RANK=0", "WORLD_SIZE=1", "TORCHELASTIC_RESTART_COUNT=1",
                 "MASTER_ADDR=127.0.0.1",
                 "MASTER_PORT=" + std::to_string(launch::free_port())},
                true);
  const int again_code = wait_exit(again, 120);
  if (again_code == -1) kill(again, SIGKILL);
  const std::string again_err = text_of(t.file("err2"));
  EXPECT_EQ(again_code, 1) << again_err;
  EXPECT_NE(again_err.find("start 1 of a restarting job "
                           "(TORCHELASTIC_RESTART_COUNT) without "
                           "--auto-resume"),
            std::string::npos)
      << again_err;
  EXPECT_NE(again_err.find("holds another run"), std::string::npos)
      << again_err;
}

// Two machines, as far as one machine shows them: two launchers of one
// rank each (`--nnodes 2`) meet at `--master`. A rank killed on the second
// "machine" makes the first one's rank fail too; each launcher restarts
// its own rank, and the restarted ranks meet again although the first
// start's rank 0 may still serve the rendezvous store for a moment (each
// start's keys are its own, and a restarted rank tries again until its
// timeout).
TEST(LaunchCli, RestartsOnTwoMachinesMeetAgain) {
  TempDir t;
  const std::string config = setup(t, kLong);
  const std::string run = t.file("run");
  const std::string master = "127.0.0.1:" + std::to_string(launch::free_port());
  auto node = [&](const std::string& k) {
    return start_cli(
        {"launch", "--nproc", "1", "--nnodes", "2", "--node-rank", k,
         "--master", master, "--max-restarts", "1", "--", "train", config,
         "--out", run, "--auto-resume", "--set", "train.epochs=6"},
        t.file("out" + k), t.file("err" + k), {}, true);
  };
  const pid_t node0 = node("0");
  const pid_t node1 = node("1");
  ASSERT_TRUE(kill_a_rank_after_the_first_checkpoint(node1, run))
      << text_of(t.file("err1"));
  const int code0 = wait_exit(node0, 240);
  const int code1 = wait_exit(node1, 60);
  if (code0 == -1) kill(node0, SIGKILL);
  if (code1 == -1) kill(node1, SIGKILL);
  const std::string err0 = text_of(t.file("err0"));
  const std::string err1 = text_of(t.file("err1"));
  ASSERT_EQ(code0, 0) << err0 << err1;
  ASSERT_EQ(code1, 0) << err0 << err1;
  for (const std::string* err : {&err0, &err1})
    EXPECT_NE(err->find("starting every rank again (restart 1 of 1)"),
              std::string::npos)
        << *err;
  EXPECT_NE(err1.find("rank 1 was killed by signal 9"), std::string::npos)
      << err1;
  EXPECT_NE(err0.find("rank 1 (no heartbeat"), std::string::npos) << err0;
  EXPECT_NE(text_of(t.file("out0")).find("now at 60)"), std::string::npos)
      << text_of(t.file("out0"));
  expect_each_step_once(run, 60);
}

// torchrun itself runs semifer's ranks (`--no_python`; its agent serves
// the store, TORCHELASTIC_USE_AGENT_STORE) and restarts them after one is
// killed; `--auto-resume` continues the run. Debian 12's torchrun
// (python3-torch 1.13 on Python 3.11) needs `--redirects 1 --tee 1` to
// start any worker (docs/distributed.md); the underscore spellings work in
// every torchrun.
TEST(TorchrunCli, RestartedRanksContinueTheRun) {
  const char* torchrun = "/usr/bin/torchrun";
  if (::access(torchrun, X_OK) != 0 ||
      std::system("/usr/bin/python3 -c 'import torch.distributed.run' "
                  ">/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no torchrun (Debian's python3-torch) on this machine";
  TempDir t;
  const std::string config = setup(t, kLong);
  const std::string run = t.file("run");
  // Rank 1 of the first start is killed once the run has a checkpoint.
  const std::string rank = write_text_file(
      t.file("rank.sh"),
      "cli=$1; run=$2; shift 2\n"
      "if [ \"$RANK\" = 1 ] && [ \"$TORCHELASTIC_RESTART_COUNT\" = 0 ]; then\n"
      "  \"$cli\" \"$@\" & pid=$!\n"
      "  n=0\n"
      "  while [ ! -f \"$run/checkpoint_last.pt\" ] && [ $n -lt 2400 ]; do\n"
      "    sleep 0.1; n=$((n + 1))\n"
      "  done\n"
      "  kill -9 $pid; wait $pid; exit 137\n"
      "fi\n"
      "exec \"$cli\" \"$@\"\n");
  const RunResult r =
      run_program("timeout", {"300",
                              torchrun,
                              "--nproc_per_node",
                              "2",
                              "--max_restarts",
                              "1",
                              "--master_addr",
                              "127.0.0.1",
                              "--master_port",
                              std::to_string(launch::free_port()),
                              "--redirects",
                              "1",
                              "--tee",
                              "1",
                              "--log_dir",
                              t.file("logs"),
                              "--no_python",
                              "/bin/sh",
                              rank,
                              SEMIFER_CLI,
                              run,
                              "train",
                              config,
                              "--out",
                              run,
                              "--auto-resume",
                              "--set",
                              "train.epochs=6"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("(resuming at step "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("now at 60)"), std::string::npos) << r.out;
  expect_each_step_once(run, 60);
}

// docs/distributed.md's srun line, word for word, under a stand-in for
// Slurm (no Slurm here): `srun --ntasks-per-node N` starts N tasks of the
// command with the variables Slurm sets (SLURM_PROCID, SLURM_LOCALID,
// SLURM_NTASKS, SLURM_NTASKS_PER_NODE, SLURM_JOB_NODELIST), and
// `scontrol show hostnames` names this machine. Only the port is changed
// (one free here).
TEST(SlurmCli, TheDocumentedSrunLineTrainsOneRun) {
  std::vector<std::string> block;
  for (const auto& line : util::read_lines(std::string(SEMIFER_SOURCE_DIR) +
                                           "/docs/distributed.md")) {
    if (block.empty() && line.rfind("    srun ", 0) != 0) continue;
    block.push_back(line.substr(std::min<size_t>(4, line.size())));
    if (line.empty() || line.back() != '\\') break;
  }
  ASSERT_EQ(block.size(), 4u) << "docs/distributed.md's srun line changed";
  std::string command;
  for (const auto& l : block) command += l + "\n";
  const size_t port = command.find("MASTER_PORT=29500");
  ASSERT_NE(port, std::string::npos) << command;
  command.replace(port, 17,
                  "MASTER_PORT=" + std::to_string(launch::free_port()));

  TempDir t;
  fs::copy_file(setup(t,
                      "epochs: 2, steps_per_epoch: 5, batch_labeled: 8, "
                      "batch_unlabeled: 8, log_every: 5, threads: 1, "
                      "torch_threads: 1, distributed: {timeout_s: 20}"),
                t.file("fer.yaml"));
  write_text_file(
      t.file("bin/srun"),
      "#!/bin/sh\n"
      "[ \"$1\" = --ntasks-per-node ] || exit 2\n"
      "n=$2; shift 2; i=0; pids=\n"
      "while [ $i -lt $n ]; do\n"
      "  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$n \\\n"
      "    SLURM_NTASKS_PER_NODE=$n SLURM_JOB_NODELIST=node1 \"$@\" &\n"
      "  pids=\"$pids $!\"; i=$((i + 1))\n"
      "done\n"
      "rc=0; for p in $pids; do wait $p || rc=$?; done; exit $rc\n");
  write_text_file(t.file("bin/scontrol"),
                  "#!/bin/sh\n"
                  "[ \"$1 $2 $3\" = \"show hostnames node1\" ] && "
                  "echo localhost\n");
  fs::create_symlink(SEMIFER_CLI, t.file("bin/semifer"));
  for (const char* tool : {"bin/srun", "bin/scontrol"})
    fs::permissions(t.file(tool), fs::perms::owner_all);
  const RunResult r = run_program(
      "/bin/sh", {"-c", "cd " + t.path().string() + " && PATH=" +
                            t.file("bin") + ":$PATH timeout 300 " + command});
  ASSERT_EQ(r.exit_code, 0) << command << r.out << r.err;
  EXPECT_NE(r.err.find(", 4 ranks, gloo"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("trained 10 steps; run folder runs/fer"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(steps_of(t.file("runs/fer/metrics.jsonl")),
            (std::vector<int64_t>{5, 10}));
}

// Ranks that would train apart silently are refused at the start, on every
// rank, naming what differs: another config value, or other images behind
// the same config. Paths may differ (the same data set mounted elsewhere),
// and so may the threads.
TEST(DistributedCli, RanksMustRunTheSameConfigOnTheSameData) {
  TempDir t;
  const std::string config = setup(
      t,
      "epochs: 1, steps_per_epoch: 5, batch_labeled: 8, batch_unlabeled: 8, "
      "log_every: 5, threads: 1, torch_threads: 1, "
      "distributed: {timeout_s: 20}");
  // The same data set at another path, and a config that reads it.
  fs::copy(t.file("data"), t.file("copy"), fs::copy_options::recursive);
  std::string text = text_of(config);
  text.replace(text.find("data/data.yaml"), 14, "copy/data.yaml");
  const std::string other = write_text_file(t.file("other.yaml"), text);
  // Rank 1 with `config1` and `extra` flags; the exit codes and stderr.
  auto job = [&](const std::string& config1,
                 const std::vector<std::string>& extra) {
    const std::string run = t.file("run");
    fs::remove_all(run);
    std::vector<std::string> args1 = {"train", config1, "--out", run};
    args1.insert(args1.end(), extra.begin(), extra.end());
    const auto [r0, r1] =
        start_two_ranks(t, {"train", config, "--out", run}, args1);
    const int c0 = wait_exit(r0, 120), c1 = wait_exit(r1, 120);
    if (c0 == -1) kill(r0, SIGKILL);
    if (c1 == -1) kill(r1, SIGKILL);
    return std::make_tuple(c0, c1, text_of(t.file("err0")),
                           text_of(t.file("err1")));
  };
  {
    const auto [c0, c1, err0, err1] = job(other, {"--set", "train.threads=2"});
    EXPECT_EQ(c0, 0) << err0;
    EXPECT_EQ(c1, 0) << err1;
  }
  // Both ranks exit 1 naming `why`.
  auto refused = [&](const std::vector<std::string>& extra,
                     const std::string& why) {
    const auto [c0, c1, err0, err1] = job(other, extra);
    EXPECT_EQ(c0, 1);
    EXPECT_EQ(c1, 1);
    for (const std::string* err : {&err0, &err1})
      EXPECT_NE(err->find(why), std::string::npos) << *err;
  };
  refused({"--set", "train.lr=0.001"},
          "rank 1 does not run rank 0's job: its config has train.lr 0.001 "
          "where rank 0's has 0.0005");
  const fs::path anger = t.file("copy/labeled/angry");
  ASSERT_TRUE(fs::is_directory(anger));
  // The same number of images, one of them renamed in rank 1's copy.
  const fs::path image = fs::directory_iterator(anger)->path();
  fs::rename(image, anger / ("renamed" + image.extension().string()));
  refused({},
          "its data differ: its labeled pool holds other images or "
          "annotations (labels, boxes) than rank 0's");
  // One labeled image less behind rank 1's copy.
  fs::remove(fs::directory_iterator(anger)->path());
  refused({}, "its data differ: labeled pool ");
}

TEST(DistributedCli, AKilledRankIsNamedByTheOthers) {
  TempDir t;
  const std::string run = t.file("run");
  const auto [r0, r1] = two_training_ranks(t, setup(t, kLong), run);
  kill(r1, SIGKILL);
  const auto killed = Clock::now();
  EXPECT_EQ(wait_exit(r1, 10), 128 + SIGKILL);
  // Bounded by train.distributed.timeout_s (20) plus the 2.5 s look at the
  // heartbeats.
  const int code = wait_exit(r0, 30);
  if (code == -1) kill(r0, SIGKILL);
  EXPECT_EQ(code, 1);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed).count(), 25);
  const std::string err = text_of(t.file("err0"));
  EXPECT_NE(err.find("rank 1"), std::string::npos) << err;
  EXPECT_NE(err.find("is lost"), std::string::npos) << err;
}

// A rank that hangs (stopped by SIGSTOP: no step, no heartbeat, its
// connections open) makes the other fail after train.distributed.timeout_s
// (4 here) and the 2.5 s look at the heartbeats, naming it.
TEST(DistributedCli, AHungRankIsNamedAfterTheTimeout) {
  TempDir t;
  const std::string run = t.file("run");
  const std::string config = setup(t, kLong);
  {
    // kLong with a 4 s timeout instead of 20 s.
    std::string text = text_of(config);
    const size_t at = text.find("timeout_s: 20");
    ASSERT_NE(at, std::string::npos);
    write_text_file(config, text.replace(at, 13, "timeout_s: 4"));
  }
  const auto [r0, r1] = two_training_ranks(t, config, run);
  kill(r1, SIGSTOP);
  const auto stopped = Clock::now();
  const int code = wait_exit(r0, 60);
  const double waited =
      std::chrono::duration<double>(Clock::now() - stopped).count();
  if (code == -1) kill(r0, SIGKILL);
  kill(r1, SIGKILL);
  wait_exit(r1, 10);
  EXPECT_EQ(code, 1);
  // Not before the timeout, and bounded (timeout + 2.5 s + slack for a
  // loaded machine).
  EXPECT_GT(waited, 4.0);
  EXPECT_LT(waited, 30.0);
  const std::string err = text_of(t.file("err0"));
  EXPECT_NE(err.find("rank 1 (no heartbeat for 2.5 s"), std::string::npos)
      << err;
  EXPECT_NE(err.find("is lost"), std::string::npos) << err;
}

}  // namespace semifer::test
