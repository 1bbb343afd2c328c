#include "backends/launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

extern char** environ;

namespace semifer::launch {

namespace {

using Clock = std::chrono::steady_clock;

// How long output may still come after every rank has exited.
constexpr auto kOutputGrace = std::chrono::seconds(2);

struct Rank {
  int rank = 0;
  pid_t pid = -1;
  int out_fd = -1, err_fd = -1;
  std::string out_buf, err_buf;
  std::optional<int> status;  // exit status once reaped
};

std::string describe(int wstatus) {
  if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    return str("was killed by signal ", sig, " (", strsignal(sig), ")");
  }
  return str("exited with status ", WEXITSTATUS(wstatus));
}

int exit_code(int wstatus) {
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return WEXITSTATUS(wstatus);
}

// Writes the complete lines of `buf` with the prefix; keeps the rest.
void flush_lines(std::string& buf, const std::string& prefix, std::ostream& os,
                 bool all) {
  size_t start = 0;
  for (;;) {
    const size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    os << prefix << buf.substr(start, nl - start) << '\n';
    start = nl + 1;
  }
  buf.erase(0, start);
  if (all && !buf.empty()) {
    os << prefix << buf << '\n';
    buf.clear();
  }
  os.flush();
}

pid_t spawn(const LaunchOptions& o, int local, int world, int port, int restart,
            const std::string& omp_threads, int* out_fd, int* err_fd) {
  int out_pipe[2], err_pipe[2];
  SEMIFER_CHECK(pipe(out_pipe) == 0 && pipe(err_pipe) == 0,
                "launch: pipe: ", std::strerror(errno));
  const int rank = o.node_rank * o.nproc + local;
  std::vector<std::string> env_vars = {
      str("RANK=", rank),
      str("WORLD_SIZE=", world),
      str("LOCAL_RANK=", local),
      str("LOCAL_WORLD_SIZE=", o.nproc),
      str("GROUP_RANK=", o.node_rank),
      str("MASTER_ADDR=", o.master_addr),
      str("MASTER_PORT=", port),
      str("TORCHELASTIC_RESTART_COUNT=", restart),
      str("TORCHELASTIC_MAX_RESTARTS=", o.max_restarts),
  };
  if (!omp_threads.empty())
    env_vars.push_back("OMP_NUM_THREADS=" + omp_threads);
  std::vector<std::string> args = {o.program};
  args.insert(args.end(), o.command.begin(), o.command.end());
  const pid_t parent = getpid();
  const pid_t pid = fork();
  SEMIFER_CHECK(pid >= 0, "launch: fork: ", std::strerror(errno));
  if (pid == 0) {
    // The rank: its own process group (the launcher forwards signals once;
    // a terminal's Ctrl-C would otherwise reach it twice), killed with the
    // launcher.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(err_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    for (const auto& v : env_vars) putenv(const_cast<char*>(v.c_str()));
    // A variable of an outer launcher that would confuse this job's ranks.
    unsetenv("TORCHELASTIC_USE_AGENT_STORE");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(o.program.c_str(), argv.data());
    const std::string msg = str("semifer launch: cannot run ", o.program, ": ",
                                std::strerror(errno), "\n");
    if (write(STDERR_FILENO, msg.data(), msg.size()) < 0) {
    }
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  *out_fd = out_pipe[0];
  *err_fd = err_pipe[0];
  fcntl(*out_fd, F_SETFL, O_NONBLOCK);
  fcntl(*err_fd, F_SETFL, O_NONBLOCK);
  return pid;
}

}  // namespace

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  SEMIFER_CHECK(fd >= 0, "launch: socket: ", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok =
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  SEMIFER_CHECK(ok, "launch: no free port: ", std::strerror(errno));
  return ntohs(addr.sin_port);
}

namespace {

// How one start of the ranks ended.
struct Attempt {
  int status = 0;        // 0, or the first failure's exit code
  bool stopped = false;  // a stop signal was forwarded
};

// Starts every local rank once and waits for them (run(), one attempt).
Attempt run_ranks(const LaunchOptions& o, int port, int restart,
                  const std::string& omp_threads, std::ostream& out,
                  std::ostream& err, const std::function<int()>& stop_signal) {
  const int world = o.nproc * o.nnodes;
  std::vector<Rank> ranks(static_cast<size_t>(o.nproc));
  for (int i = 0; i < o.nproc; ++i) {
    ranks[i].rank = o.node_rank * o.nproc + i;
    ranks[i].pid = spawn(o, i, world, port, restart, omp_threads,
                         &ranks[i].out_fd, &ranks[i].err_fd);
  }

  std::optional<int> result;  // the first failure's exit code
  std::optional<Clock::time_point> kill_at;
  std::optional<Clock::time_point> exited_at;  // when the last rank exited
  bool forwarded = false;
  auto signal_all = [&](int sig) {
    for (auto& r : ranks)
      if (!r.status) kill(r.pid, sig);
  };
  auto stop_others = [&](const std::string& why) {
    if (kill_at) return;
    err << "semifer launch: " << why << "; stopping the other ranks"
        << std::endl;
    signal_all(SIGTERM);
    kill_at = Clock::now() +
              std::chrono::milliseconds(static_cast<int64_t>(o.grace_s * 1000));
  };

  // Closes one of a rank's pipes and writes what is left of its output.
  auto close_output = [&](Rank& r, bool is_err) {
    int& fd = is_err ? r.err_fd : r.out_fd;
    if (fd >= 0) close(fd);
    fd = -1;
    flush_lines(is_err ? r.err_buf : r.out_buf, str("[rank ", r.rank, "] "),
                is_err ? err : out, true);
  };

  char chunk[4096];
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owner;  // rank, is stderr
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i].out_fd >= 0) {
        fds.push_back({ranks[i].out_fd, POLLIN, 0});
        owner.emplace_back(i, false);
      }
      if (ranks[i].err_fd >= 0) {
        fds.push_back({ranks[i].err_fd, POLLIN, 0});
        owner.emplace_back(i, true);
      }
    }
    // With no pipe left open (a rank that closed both) this only waits.
    poll(fds.data(), fds.size(), 100);
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Rank& r = ranks[owner[k].first];
      const bool is_err = owner[k].second;
      const int fd = is_err ? r.err_fd : r.out_fd;
      std::string& buf = is_err ? r.err_buf : r.out_buf;
      bool open = true;
      for (;;) {
        const ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n > 0) {
          buf.append(chunk, static_cast<size_t>(n));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          close_output(r, is_err);
          open = false;
        }
        break;
      }
      if (open)
        flush_lines(buf, str("[rank ", r.rank, "] "), is_err ? err : out,
                    false);
    }
    // Reap.
    for (auto& r : ranks) {
      if (r.status) continue;
      int wstatus = 0;
      if (waitpid(r.pid, &wstatus, WNOHANG) != r.pid) continue;
      r.status = wstatus;
      const int code = exit_code(wstatus);
      if (code != 0 && !result) {
        result = code;
        if (!forwarded)
          stop_others(str("rank ", r.rank, " ", describe(wstatus)));
      }
    }
    const int sig = stop_signal ? stop_signal() : 0;
    if (sig != 0 && !forwarded) {
      forwarded = true;
      signal_all(sig);
      kill_at = Clock::now() + std::chrono::milliseconds(
                                   static_cast<int64_t>(o.grace_s * 1000));
    }
    if (kill_at && Clock::now() >= *kill_at) {
      signal_all(SIGKILL);
      kill_at = Clock::now() + std::chrono::hours(24);
    }
    bool all_exited = true;
    bool all_closed = true;
    for (const auto& r : ranks) {
      all_exited = all_exited && r.status.has_value();
      all_closed = all_closed && r.out_fd < 0 && r.err_fd < 0;
    }
    if (all_exited && all_closed) break;
    // A process a rank left running (a shell's `cmd &`) holds its pipes
    // open: once every rank has exited, output that is still coming gets
    // kOutputGrace, then the launcher stops reading and returns.
    if (all_exited) {
      if (!exited_at) exited_at = Clock::now();
      if (Clock::now() - *exited_at >= kOutputGrace) {
        for (auto& r : ranks) {
          close_output(r, false);
          close_output(r, true);
        }
        break;
      }
    }
  }
  return {result.value_or(0), forwarded};
}

}  // namespace

int run(const LaunchOptions& o, std::ostream& out, std::ostream& err,
        const std::function<int()>& stop_signal) {
  SEMIFER_CHECK(o.nproc >= 1, "--nproc must be at least 1, got ", o.nproc);
  SEMIFER_CHECK(o.nnodes >= 1, "--nnodes must be at least 1, got ", o.nnodes);
  SEMIFER_CHECK(o.node_rank >= 0 && o.node_rank < o.nnodes, "--node-rank ",
                o.node_rank, " must lie in [0, ", o.nnodes, ")");
  SEMIFER_CHECK(!o.command.empty(),
                "launch: no command after --; e.g. semifer launch --nproc 2 "
                "-- train CONFIG --out RUN");
  SEMIFER_CHECK(o.master_port > 0 || o.nnodes == 1,
                "--master ADDR:PORT is needed for more than one machine");
  SEMIFER_CHECK(o.master_port >= 0 && o.master_port <= 65535, "the port ",
                o.master_port, " is out of range");
  SEMIFER_CHECK(o.max_restarts >= 0,
                "--max-restarts must not be negative, got ", o.max_restarts);
  int port = o.master_port > 0 ? o.master_port : free_port();

  // Ranks of one machine share its cores: each would otherwise start one
  // intra-op thread per logical CPU, and OpenMP threads that spin-wait for
  // cores others hold slow every rank down several times (3x measured for
  // 2 ranks on 2 cores). As torchrun does, unless the user chose.
  std::string omp_threads;
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (o.nproc > 1 && std::getenv("OMP_NUM_THREADS") == nullptr) {
    omp_threads = std::to_string(std::max(1, cpus / o.nproc));
    err << "semifer launch: OMP_NUM_THREADS=" << omp_threads
        << " for each rank (" << cpus << " logical CPUs / " << o.nproc
        << " ranks); set OMP_NUM_THREADS or train.torch_threads to choose"
        << std::endl;
  }

  // A rank that dies would otherwise end the launcher with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  for (int restart = 0;; ++restart) {
    const Attempt a =
        run_ranks(o, port, restart, omp_threads, out, err, stop_signal);
    if (a.status == 0 || a.stopped || restart >= o.max_restarts)
      return a.status;
    err << "semifer launch: starting every rank again (restart " << restart + 1
        << " of " << o.max_restarts << ")" << std::endl;
    // A port of the launcher's choosing is chosen anew: the last one may
    // still be held by the store of the rank 0 that died. The kernel may
    // hand the port just released out again: another one is asked for.
    if (o.master_port == 0) {
      const int last = port;
      for (int tries = 0; port == last && tries < 100; ++tries)
        port = free_port();
    }
  }
}

}  // namespace semifer::launch
