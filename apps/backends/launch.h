// `semifer launch`: starts the local ranks of a data-parallel job the way
// torchrun does (docs/distributed.md).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace semifer::launch {

struct LaunchOptions {
  int nproc = 1;      ///< ranks on this machine
  int nnodes = 1;     ///< machines in the job
  int node_rank = 0;  ///< this machine's place, [0, nnodes)
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  ///< 0: a free port of this machine (one machine only)
  /// The semifer executable and the command each rank runs ("train", ...).
  std::string program;
  std::vector<std::string> command;
  /// After a rank fails (or a stop signal is forwarded): seconds before the
  /// ranks still running are killed.
  double grace_s = 30;
  /// When a rank fails: start every rank again this many times at most
  /// (torchrun's --max-restarts; the ranks see TORCHELASTIC_RESTART_COUNT).
  /// A stop signal is never followed by a restart.
  int max_restarts = 0;
};

/// Starts the ranks with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
/// MASTER_ADDR and MASTER_PORT set (and, for more than one rank where the
/// launcher's environment has no OMP_NUM_THREADS, OMP_NUM_THREADS = the
/// logical CPUs / nproc, at least 1, said on `err`), copies their output line
/// by line with a "[rank R] " prefix to `out` and `err`, forwards the signal
/// `stop_signal()` reports (polled) to every rank once, and returns when all
/// have exited (output still coming from a process a rank left running is
/// read for 2 s more): 0 when all succeeded, else the first failure's
/// status (128 + signal for a rank killed by one). When a rank fails, the
/// others get SIGTERM and, after grace_s, SIGKILL. Ranks die with the
/// launcher (Linux PR_SET_PDEATHSIG). After a failure with restarts left,
/// every rank is started again (a new free port where the launcher chose
/// it), said on `err`. Throws semifer::Error on bad options.
int run(const LaunchOptions& options, std::ostream& out, std::ostream& err,
        const std::function<int()>& stop_signal);

/// A TCP port of 127.0.0.1 that was free a moment ago.
int free_port();

}  // namespace semifer::launch
