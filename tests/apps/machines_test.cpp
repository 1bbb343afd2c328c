// Data-parallel runs on two machines apart on a network (issue 13), made on
// this one: two network namespaces joined by a virtual Ethernet pair, with
// the addresses 192.168.213.1 and .2, each with a host name of its own
// (unshare --uts) and an /etc/hosts as a Debian machine has it: its own
// name at 127.0.1.1, the other machine's at its address. Each machine runs
// `semifer launch` for one rank, the rendezvous at the first machine's host
// name, as the documented Slurm line has it: a run, an unreachable Gloo
// address, the network cut mid-run. Needs root (network namespaces) and
// iproute2's `ip`; skipped elsewhere.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "semifer/util/error.h"
#include "support/support.h"
#include "train_setup.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

// The two machines; their namespaces and hosts files go with the object.
class TwoMachines {
 public:
  TwoMachines() {
    if (geteuid() != 0) {
      unavailable_ = "network namespaces need root";
      return;
    }
    if (std::system("command -v ip >/dev/null 2>&1") != 0) {
      unavailable_ = "no `ip` (iproute2) on this machine";
      return;
    }
    const std::string id = std::to_string(getpid());
    for (int m = 0; m < 2; ++m) ns_[m] = str("sf", id, "m", m);
    link_ = str("sf", id, "a");
    const std::string& a = link_;
    const std::string b = str("sf", id, "b");
    const std::vector<std::string> steps = {
        str("ip netns add ", ns_[0]),
        str("ip netns add ", ns_[1]),
        str("ip link add ", a, " type veth peer name ", b),
        str("ip link set ", a, " netns ", ns_[0]),
        str("ip link set ", b, " netns ", ns_[1]),
        str("ip -n ", ns_[0], " addr add 192.168.213.1/24 dev ", a),
        str("ip -n ", ns_[1], " addr add 192.168.213.2/24 dev ", b),
        str("ip -n ", ns_[0], " link set ", a, " up"),
        str("ip -n ", ns_[1], " link set ", b, " up"),
        str("ip -n ", ns_[0], " link set lo up"),
        str("ip -n ", ns_[1], " link set lo up")};
    for (const auto& step : steps) {
      if (std::system((step + " >/dev/null 2>&1").c_str()) != 0) {
        unavailable_ = str("`", step, "` failed (no network namespaces here)");
        return;
      }
    }
    // `ip netns exec` puts /etc/netns/<name>/hosts in the place of
    // /etc/hosts.
    for (int m = 0; m < 2; ++m) {
      fs::create_directories(str("/etc/netns/", ns_[m]));
      write_text_file(str("/etc/netns/", ns_[m], "/hosts"),
                      str("127.0.0.1 localhost\n127.0.1.1 node", m,
                          "\n192.168.213.", 2 - m, " node", 1 - m, "\n"));
    }
  }
  ~TwoMachines() {
    for (const auto& ns : ns_) {
      if (ns.empty()) continue;
      // The veth pair goes with its namespaces.
      std::system(str("ip netns del ", ns, " >/dev/null 2>&1").c_str());
      std::error_code ec;
      fs::remove_all(str("/etc/netns/", ns), ec);
    }
  }
  TwoMachines(const TwoMachines&) = delete;
  TwoMachines& operator=(const TwoMachines&) = delete;

  // Cuts the network between the machines: their link goes down, and
  // packets vanish (no connection is reset).
  bool cut() const {
    return std::system(
               str("ip -n ", ns_[0], " link set ", link_, " down").c_str()) ==
           0;
  }

  // Why the machines cannot be made here; empty when they are.
  const std::string& unavailable() const { return unavailable_; }

  // Starts `semifer args` on machine `m` (host name node<m>), stdout and
  // stderr to the files, `env` added, in a process group of its own.
  int start(int m, const std::vector<std::string>& args, const std::string& out,
            const std::string& err,
            const std::vector<std::string>& env = {}) const {
    std::vector<std::string> all = {
        "netns",        "exec",     ns_[m], "unshare",
        "--uts",        "sh",       "-c",   "hostname \"$0\" && exec \"$@\"",
        str("node", m), SEMIFER_CLI};
    all.insert(all.end(), args.begin(), args.end());
    return start_program("ip", all, out, err, env, true);
  }

 private:
  std::string ns_[2];
  std::string link_;  // the first machine's end of the link
  std::string unavailable_;
};

// `semifer launch` of machine `m`'s one rank of two, the rendezvous at
// node0:29500 (each machine has its own ports).
std::vector<std::string> launch_args(int m, const std::string& config,
                                     const std::string& run) {
  return {"launch",
          "--nproc",
          "1",
          "--nnodes",
          "2",
          "--node-rank",
          std::to_string(m),
          "--master",
          "node0:29500",
          "--",
          "train",
          config,
          "--out",
          run};
}

// Both machines' exit codes, waiting up to `seconds` for each; a launcher
// still running then is killed.
std::pair<int, int> wait_both(int p0, int p1, double seconds) {
  const int c0 = wait_exit(p0, seconds);
  const int c1 = wait_exit(p1, c0 == -1 ? 1 : seconds);
  for (const auto& [pid, code] : {std::pair{p0, c0}, std::pair{p1, c1}}) {
    if (code == -1) {
      kill(-pid, SIGKILL);
      wait_exit(pid, 10);
    }
  }
  return {c0, c1};
}

const char* kShort =
    "epochs: 2, steps_per_epoch: 5, batch_labeled: 8, batch_unlabeled: 8, "
    "log_every: 5, threads: 1, torch_threads: 1, distributed: {timeout_s: 20}";

}  // namespace

// One run over the network: the same networks as the same job's two ranks
// on one machine. The first machine knows its own name as 127.0.1.1, and
// Gloo binds the address the second machine resolves that name to (before,
// it bound 127.0.0.1 there, and the second machine, whose address is the
// greater, connected to its own loopback: refused).
TEST(TwoMachines, TrainOneRunOverTheNetwork) {
  TwoMachines machines;
  if (!machines.unavailable().empty()) GTEST_SKIP() << machines.unavailable();
  TempDir t;
  const std::string config = setup(t, kShort);
  const std::string run = t.file("run");
  const int m0 = machines.start(0, launch_args(0, config, run), t.file("out0"),
                                t.file("err0"));
  const int m1 = machines.start(1, launch_args(1, config, run), t.file("out1"),
                                t.file("err1"));
  const auto [c0, c1] = wait_both(m0, m1, 180);
  const std::string errs = text_of(t.file("err0")) + text_of(t.file("err1"));
  ASSERT_EQ(c0, 0) << errs;
  ASSERT_EQ(c1, 0) << errs;
  EXPECT_NE(text_of(t.file("out0")).find("[rank 0] trained 10 steps"),
            std::string::npos)
      << text_of(t.file("out0"));
  EXPECT_NE(errs.find("2 ranks, gloo"), std::string::npos) << errs;
  const std::string local = t.file("local");
  const RunResult r = run_cli(
      {"launch", "--nproc", "2", "--", "train", config, "--out", local});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(torch::equal(student_weights(run + "/checkpoint_last.pt"),
                           student_weights(local + "/checkpoint_last.pt")));
}

// Gloo bound where the other machine cannot reach it (GLOO_SOCKET_IFNAME
// lo on both): each rank connects to the other's loopback. The rank that
// fails first says so in the store and the other stops too, both with one
// line naming the rank, its Gloo address and Gloo's error; Gloo itself
// waits five times its timeout for a connection that never comes (100 s
// here, 25 minutes at the default timeout).
TEST(TwoMachines, AnUnreachableGlooAddressStopsBothMachinesAtOnce) {
  TwoMachines machines;
  if (!machines.unavailable().empty()) GTEST_SKIP() << machines.unavailable();
  TempDir t;
  const std::string config = setup(t, kShort);
  const std::string run = t.file("run");
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> lo = {"GLOO_SOCKET_IFNAME=lo"};
  const int m0 = machines.start(0, launch_args(0, config, run), t.file("out0"),
                                t.file("err0"), lo);
  const int m1 = machines.start(1, launch_args(1, config, run), t.file("out1"),
                                t.file("err1"), lo);
  const auto [c0, c1] = wait_both(m0, m1, 120);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const std::string err0 = text_of(t.file("err0"));
  const std::string err1 = text_of(t.file("err1"));
  EXPECT_EQ(c0, 1) << err0;
  EXPECT_EQ(c1, 1) << err1;
  EXPECT_LT(seconds, 20) << err0 << err1;
  for (const auto* err : {&err0, &err1}) {
    EXPECT_NE(err->find("semifer: error: rendezvous: rank "), std::string::npos)
        << *err;
    EXPECT_NE(err->find("(Gloo on interface lo) could not connect to the "
                        "other ranks"),
              std::string::npos)
        << *err;
    EXPECT_NE(err->find("set GLOO_SOCKET_IFNAME"), std::string::npos) << *err;
  }
  // One rank's own failure, the other's report of it.
  EXPECT_NE((err0 + err1).find("Connection refused"), std::string::npos);
  EXPECT_NE((err0 + err1).find("(Gloo on interface lo) failed: "),
            std::string::npos)
      << err0 << err1;
  EXPECT_FALSE(fs::exists(run + "/checkpoint_last.pt"));
}

// The network cut mid-run: nothing resets the connections, the packets
// just vanish. Each machine's rank stops after its collective's timeout
// and the heartbeat check, naming the other: rank 0 sees rank 1's
// heartbeats stop, rank 1 cannot reach the store rank 0 serves.
TEST(TwoMachines, ACutNetworkStopsBothMachinesNamingTheOther) {
  TwoMachines machines;
  if (!machines.unavailable().empty()) GTEST_SKIP() << machines.unavailable();
  TempDir t;
  const std::string config =
      setup(t,
            "epochs: 400, steps_per_epoch: 5, batch_labeled: 8, "
            "batch_unlabeled: 8, log_every: 5, threads: 1, torch_threads: 1, "
            "distributed: {timeout_s: 10}");
  const std::string run = t.file("run");
  const int m0 = machines.start(0, launch_args(0, config, run), t.file("out0"),
                                t.file("err0"));
  const int m1 = machines.start(1, launch_args(1, config, run), t.file("out1"),
                                t.file("err1"));
  bool started = false;
  for (int i = 0; i < 2400 && !started; ++i) {
    started = fs::exists(run + "/checkpoint_last.pt");
    if (!started) usleep(100000);
  }
  EXPECT_TRUE(started) << text_of(t.file("err0"));
  ASSERT_TRUE(machines.cut());
  const auto cut = std::chrono::steady_clock::now();
  const auto [c0, c1] = wait_both(m0, m1, 120);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - cut)
          .count();
  const std::string err0 = text_of(t.file("err0"));
  const std::string err1 = text_of(t.file("err1"));
  EXPECT_EQ(c0, 1) << err0;
  EXPECT_EQ(c1, 1) << err1;
  // The timeout (10 s), the heartbeats' 2.5 s, and a margin for the store's
  // own wait.
  EXPECT_LT(seconds, 30) << err0 << err1;
  EXPECT_NE(err0.find("semifer: error: distributed: "), std::string::npos)
      << err0;
  EXPECT_NE(err0.find("rank 1 (no heartbeat for 2.5 s"), std::string::npos)
      << err0;
  EXPECT_NE(err1.find("rank 0 is lost"), std::string::npos) << err1;
}

}  // namespace semifer::test
