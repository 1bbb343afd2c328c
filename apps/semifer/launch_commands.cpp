#include <iostream>
#include <memory>

#include "backends/launch.h"
#include "commands.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "stop_signals.h"

namespace semifer::app {

namespace {

struct LaunchFlags {
  launch::LaunchOptions options;
  std::string master;
  std::vector<std::string> command;
};

void run(LaunchFlags& f, const std::vector<std::string>& command) {
  launch::LaunchOptions o = f.options;
  if (!f.master.empty()) {
    const auto colon = f.master.rfind(':');
    SEMIFER_CHECK(
        colon != std::string::npos && colon > 0 && colon + 1 < f.master.size(),
        "--master expects ADDR:PORT, got '", f.master, "'");
    o.master_addr = f.master.substr(0, colon);
    try {
      size_t used = 0;
      o.master_port = std::stoi(f.master.substr(colon + 1), &used);
      SEMIFER_CHECK(used == f.master.size() - colon - 1, "");
    } catch (const std::exception&) {
      fail("--master expects ADDR:PORT, got '", f.master, "'");
    }
  }
  o.command = command;
  o.program = "/proc/self/exe";
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n > 0) o.program.assign(path, static_cast<size_t>(n));
  StopSignals signals;
  exit_status() =
      launch::run(o, std::cout, std::cerr, [] { return stop_signal(); });
}

}  // namespace

void add_launch_commands(CLI::App& app) {
  auto f = std::make_shared<LaunchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "Run a command (train) as the local ranks of a data-parallel job, as "
      "torchrun does (docs/distributed.md)");
  cmd->add_option("--nproc", f->options.nproc, "Ranks on this machine")
      ->check(positive());
  cmd->add_option("--nnodes", f->options.nnodes, "Machines in the job")
      ->check(positive());
  cmd->add_option("--node-rank", f->options.node_rank,
                  "This machine's place in [0, nnodes)");
  cmd->add_option("--master", f->master,
                  "ADDR:PORT of rank 0's machine (default: a free port of "
                  "127.0.0.1; needed with --nnodes > 1)");
  cmd->add_option("--grace", f->options.grace_s,
                  "Seconds the other ranks get to stop after one fails or a "
                  "stop signal, before they are killed");
  cmd->add_option("--max-restarts", f->options.max_restarts,
                  "When a rank fails: stop the others and start every rank "
                  "again, this many times at most (pass train --auto-resume "
                  "so that a restart continues the run)")
      ->check(non_negative());
  cmd->add_option("command", f->command,
                  "After --: the semifer command each rank runs (train ...)")
      ->expected(-1);
  cmd->footer(
      "Each rank runs 'semifer COMMAND...' with RANK, WORLD_SIZE, LOCAL_RANK, "
      "LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (with more than "
      "one rank and no OMP_NUM_THREADS of yours, also OMP_NUM_THREADS = "
      "logical CPUs / nproc: the ranks share the cores); its output lines "
      "are prefixed with [rank R]. Ctrl-C or SIGTERM is forwarded to every "
      "rank once (they checkpoint and stop); when a rank fails, the others "
      "are stopped and the launcher exits with the failing rank's status, "
      "unless --max-restarts starts them again (TORCHELASTIC_RESTART_COUNT "
      "tells them which start it is).\n"
      "Example:\n  semifer launch --nproc 2 -- train fer.yaml --out runs/fer\n"
      "  semifer launch --nproc 2 --max-restarts 3 -- train fer.yaml --out "
      "runs/fer --auto-resume\n"
      "  semifer launch --nproc 4 --nnodes 2 --node-rank 0 --master "
      "10.0.0.1:29500 -- train fer.yaml --out runs/fer");
  cmd->callback([f] { run(*f, f->command); });
}

}  // namespace semifer::app
