// Data-parallel runs on two machines apart on a network (issue 13), made on
// this one: two network namespaces joined by a virtual Ethernet pair, with
// the addresses 192.168.213.1 and .2, each with a host name of its own
// (unshare --uts) and an /etc/hosts as a Debian machine has it: its own
// name at 127.0.1.1, the other machine's at its address. Each machine runs
// `semifer launch` for one rank, the rendezvous at the first machine's host
// name, as the documented Slurm line has it: a run, an unreachable Gloo
// address, one whose packets vanish, the network cut mid-run. Needs root
// (network namespaces) and iproute2's `ip`; skipped elsewhere.
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
class Machines {
 public:
  Machines() {
    if (geteuid() != 0) {
      unavailable_ = "network namespaces need root";
      return;
    }
    if (std::system("command -v ip >/dev/null 2>&1") != 0) {
      unavailable_ = "no `ip` (iproute2) on this machine";
      return;
    }
    id_ = std::to_string(getpid());
    for (int m = 0; m < 2; ++m) ns_[m] = str("sf", id_, "m", m);
    link_ = str("sf", id_, "a");
    const std::string& a = link_;
    const std::string b = str("sf", id_, "b");
    const std::string failed =
        run({str("ip netns add ", ns_[0]), str("ip netns add ", ns_[1]),
             str("ip link add ", a, " type veth peer name ", b),
             str("ip link set ", a, " netns ", ns_[0]),
             str("ip link set ", b, " netns ", ns_[1]),
             str("ip -n ", ns_[0], " addr add 192.168.213.1/24 dev ", a),
             str("ip -n ", ns_[1], " addr add 192.168.213.2/24 dev ", b),
             str("ip -n ", ns_[0], " link set ", a, " up"),
             str("ip -n ", ns_[1], " link set ", b, " up"),
             str("ip -n ", ns_[0], " link set lo up"),
             str("ip -n ", ns_[1], " link set lo up")});
    if (!failed.empty()) {
      unavailable_ = str("`", failed, "` failed (no network namespaces here)");
      return;
    }
    // `ip netns exec` puts /etc/netns/<name>/hosts in the place of
    // /etc/hosts.
    try {
      for (int m = 0; m < 2; ++m) {
        fs::create_directories(str("/etc/netns/", ns_[m]));
        write_text_file(str("/etc/netns/", ns_[m], "/hosts"),
                        str("127.0.0.1 localhost\n127.0.1.1 node", m,
                            "\n192.168.213.", 2 - m, " node", 1 - m, "\n"));
      }
    } catch (const std::exception& e) {
      unavailable_ = str("no hosts file for the machines: ", e.what());
    }
  }
  ~Machines() {
    for (const auto& ns : {ns_[0], ns_[1], router_}) {
      if (ns.empty()) continue;
      // The veth pair goes with its namespaces.
      std::system(str("ip netns del ", ns, " >/dev/null 2>&1").c_str());
      std::error_code ec;
      fs::remove_all(str("/etc/netns/", ns), ec);
    }
  }
  Machines(const Machines&) = delete;
  Machines& operator=(const Machines&) = delete;

  // Cuts the network between the machines: their link goes down, and
  // packets vanish (no connection is reset).
  bool cut() const {
    return std::system(
               str("ip -n ", ns_[0], " link set ", link_, " down").c_str()) ==
           0;
  }

  // Gives machine 1 a second network: 10.213.9.2 on the interface
  // dead_end(), which machine 0 reaches only through a third namespace
  // that forwards nothing, so the packets vanish there. Returns the command
  // that failed, or "".
  std::string add_dead_end() {
    router_ = str("sf", id_, "r");
    const std::string c = str("sf", id_, "c"), d = str("sf", id_, "d"),
                      f = str("sf", id_, "f");
    dead_end_ = str("sf", id_, "e");
    return run(
        {str("ip netns add ", router_),
         str("ip netns exec ", router_,
             " sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'"),
         str("ip link add ", c, " type veth peer name ", d),
         str("ip link set ", c, " netns ", ns_[0]),
         str("ip link set ", d, " netns ", router_),
         str("ip -n ", ns_[0], " addr add 10.213.8.1/24 dev ", c),
         str("ip -n ", router_, " addr add 10.213.8.2/24 dev ", d),
         str("ip -n ", ns_[0], " link set ", c, " up"),
         str("ip -n ", router_, " link set ", d, " up"),
         str("ip -n ", ns_[0], " route add 10.213.9.0/24 via 10.213.8.2"),
         str("ip link add ", dead_end_, " type veth peer name ", f),
         str("ip link set ", dead_end_, " netns ", ns_[1]),
         str("ip link set ", f, " netns ", ns_[1]),
         str("ip -n ", ns_[1], " addr add 10.213.9.2/24 dev ", dead_end_),
         str("ip -n ", ns_[1], " link set ", dead_end_, " up"),
         str("ip -n ", ns_[1], " link set ", f, " up")});
  }
  const std::string& dead_end() const { return dead_end_; }

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
  // Runs each command; the first that fails, or "".
  static std::string run(const std::vector<std::string>& commands) {
    for (const auto& c : commands)
      if (std::system((c + " >/dev/null 2>&1").c_str()) != 0) return c;
    return "";
  }

  std::string id_;
  std::string ns_[2];
  std::string router_;  // add_dead_end's namespace
  std::string link_;    // the first machine's end of the link
  std::string dead_end_;
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

// Both machines' launchers of `semifer train config --out run` (one rank
// each), `env0` and `env1` added to each machine's.
std::pair<int, int> start_both(const Machines& machines, const TempDir& t,
                               const std::string& config,
                               const std::string& run,
                               const std::vector<std::string>& env0 = {},
                               const std::vector<std::string>& env1 = {}) {
  const int m0 = machines.start(0, launch_args(0, config, run), t.file("out0"),
                                t.file("err0"), env0);
  return {m0, machines.start(1, launch_args(1, config, run), t.file("out1"),
                             t.file("err1"), env1)};
}

// How the two launchers ended.
struct Ended {
  int code[2];
  std::string err[2];
  double seconds;  // from the call of wait_both
};

// Waits up to `seconds` for each launcher (one still running then is
// killed).
Ended wait_both(const TempDir& t, std::pair<int, int> pids, double seconds) {
  const auto start = std::chrono::steady_clock::now();
  Ended e;
  e.code[0] = wait_exit(pids.first, seconds);
  e.code[1] = wait_exit(pids.second, e.code[0] == -1 ? 1 : seconds);
  e.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  for (int m = 0; m < 2; ++m) {
    const int pid = m == 0 ? pids.first : pids.second;
    if (e.code[m] == -1) {
      kill(-pid, SIGKILL);
      wait_exit(pid, 10);
    }
    e.err[m] = text_of(t.file(str("err", m)));
  }
  return e;
}

const char* kShort =
    "epochs: 2, steps_per_epoch: 5, batch_labeled: 8, batch_unlabeled: 8, "
    "log_every: 5, threads: 1, torch_threads: 1, distributed: {timeout_s: 20}";

// Each test's machines and folder; skipped where the machines cannot be
// made.
class TwoMachines : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!machines.unavailable().empty()) GTEST_SKIP() << machines.unavailable();
  }
  Machines machines;
  TempDir t;
  const std::string run = t.file("run");
};

}  // namespace

// One run over the network: the same networks as the same job's two ranks
// on one machine. The first machine knows its own name as 127.0.1.1, and
// Gloo binds the address the second machine resolves that name to (before,
// it bound 127.0.0.1 there, and the second machine, whose address is the
// greater, connected to its own loopback: refused).
TEST_F(TwoMachines, TrainOneRunOverTheNetwork) {
  const std::string config = setup(t, kShort);
  const Ended e = wait_both(t, start_both(machines, t, config, run), 180);
  const std::string errs = e.err[0] + e.err[1];
  ASSERT_EQ(e.code[0], 0) << errs;
  ASSERT_EQ(e.code[1], 0) << errs;
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
TEST_F(TwoMachines, AnUnreachableGlooAddressStopsBothMachinesAtOnce) {
  const std::string config = setup(t, kShort);
  const std::vector<std::string> lo = {"GLOO_SOCKET_IFNAME=lo"};
  const Ended e =
      wait_both(t, start_both(machines, t, config, run, lo, lo), 120);
  const std::string& err0 = e.err[0];
  const std::string& err1 = e.err[1];
  EXPECT_EQ(e.code[0], 1) << err0;
  EXPECT_EQ(e.code[1], 1) << err1;
  EXPECT_LT(e.seconds, 20) << err0 << err1;
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

// A Gloo address whose packets vanish: machine 1's Gloo on a second network
// (GLOO_SOCKET_IFNAME), which machine 0 reaches only through a namespace
// that forwards nothing. No error ever comes: machine 0's connection gets
// no answer (its address compares greater, so it connects) and machine 1
// waits for it. Each rank gives up once the connection outlasts the
// timeout (Gloo alone waits five times it), naming its Gloo address. Rank
// 1 still tells rank 0 how it reaches the master's host name (it skipped
// that when its own interface was set, and rank 0 waited for it in vain).
TEST_F(TwoMachines, AGlooAddressWhosePacketsVanishStopsBothAtTheTimeout) {
  const std::string failed = machines.add_dead_end();
  ASSERT_EQ(failed, "");
  const std::string config = setup(
      t,
      "epochs: 2, steps_per_epoch: 5, batch_labeled: 8, batch_unlabeled: 8, "
      "threads: 1, torch_threads: 1, distributed: {timeout_s: 8}");
  const Ended e =
      wait_both(t,
                start_both(machines, t, config, run, {},
                           {"GLOO_SOCKET_IFNAME=" + machines.dead_end()}),
                120);
  EXPECT_EQ(e.code[0], 1) << e.err[0];
  EXPECT_EQ(e.code[1], 1) << e.err[1];
  EXPECT_LT(e.seconds, 25) << e.err[0] << e.err[1];
  // Both ranks reach their deadline at about the same time: whichever
  // writes the failure key first is named by the other, so a rank's line
  // names its own timeout or the other rank's.
  const std::string timed_out =
      "the connections did not complete within train.distributed.timeout_s "
      "(8 s;";
  const std::string gloo0 = "rank 0 of 2 (Gloo at 192.168.213.1)";
  const std::string gloo1 =
      "rank 1 of 2 (Gloo on interface " + machines.dead_end() + ")";
  const std::string failed_to = " could not connect to the other ranks: ";
  const auto names_a_timeout = [&](const std::string& err,
                                   const std::string& self,
                                   const std::string& other) {
    return err.find(self + failed_to + timed_out) != std::string::npos ||
           err.find(self + failed_to + other + " gave up: " + timed_out) !=
               std::string::npos;
  };
  EXPECT_TRUE(names_a_timeout(e.err[0], gloo0, gloo1)) << e.err[0];
  EXPECT_TRUE(names_a_timeout(e.err[1], gloo1, gloo0)) << e.err[1];
  // The rank that wrote the key first names its own timeout.
  EXPECT_NE((e.err[0] + e.err[1]).find(failed_to + timed_out),
            std::string::npos)
      << e.err[0] << e.err[1];
}

// The network cut mid-run: nothing resets the connections, the packets
// just vanish. Each machine's rank stops after its collective's timeout
// and the heartbeat check, naming the other: rank 0 sees rank 1's
// heartbeats stop, rank 1 cannot reach the store rank 0 serves.
TEST_F(TwoMachines, ACutNetworkStopsBothMachinesNamingTheOther) {
  const std::string config =
      setup(t,
            "epochs: 400, steps_per_epoch: 5, batch_labeled: 8, "
            "batch_unlabeled: 8, log_every: 5, threads: 1, torch_threads: 1, "
            "distributed: {timeout_s: 10}");
  const auto pids = start_both(machines, t, config, run);
  EXPECT_TRUE(wait_for_file(run + "/checkpoint_last.pt", 240))
      << text_of(t.file("err0"));
  ASSERT_TRUE(machines.cut());
  const Ended e = wait_both(t, pids, 120);
  const std::string& err0 = e.err[0];
  const std::string& err1 = e.err[1];
  EXPECT_EQ(e.code[0], 1) << err0;
  EXPECT_EQ(e.code[1], 1) << err1;
  // The timeout (10 s), the heartbeats' 2.5 s, and a margin for the store's
  // own wait.
  EXPECT_LT(e.seconds, 30) << err0 << err1;
  EXPECT_NE(err0.find("semifer: error: distributed: "), std::string::npos)
      << err0;
  EXPECT_NE(err0.find("rank 1 (no heartbeat for 2.5 s"), std::string::npos)
      << err0;
  EXPECT_NE(err1.find("rank 0 is lost"), std::string::npos) << err1;
}

}  // namespace semifer::test
