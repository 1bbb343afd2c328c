#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "semifer/train/config.h"
#include "semifer/train/distributed.h"
#include "semifer/train/trainer.h"
#include "semifer/util/strings.h"
#include "stop_signals.h"

namespace semifer::app {

namespace {

struct TrainFlags {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
  bool resume = false;
  bool overwrite = false;
  bool auto_resume = false;
  bool deterministic = false;
  bool quiet = false;
};

void run(const TrainFlags& f) {
  std::vector<std::string> overrides = f.overrides;
  if (f.deterministic) overrides.push_back("train.deterministic=true");
  train::TrainConfig config = train::load_train_config(f.config, overrides);
  train::RunOptions options;
  // One rank of a data-parallel job when torchrun's variables are set
  // (docs/distributed.md); rank 0 alone writes the run folder and shows
  // progress.
  const train::LaunchEnv env = train::read_launch_env();
  const bool rank0 = !env.present || env.rank == 0;
  options.run_dir =
      f.out.empty() ? "runs/" + std::filesystem::path(f.config).stem().string()
                    : f.out;
  options.resume = f.resume;
  options.overwrite = f.overwrite;
  options.auto_resume = f.auto_resume;
  options.progress = !f.quiet && rank0;
  options.stop_requested = [] { return stop_signal() != 0; };
  StopSignals signals;
  if (env.restart_count > 0 && rank0 && !f.resume && !f.auto_resume &&
      !f.overwrite)
    std::cerr << "semifer: warning: start " << env.restart_count
              << " of a restarting job (TORCHELASTIC_RESTART_COUNT) without "
                 "--auto-resume: the run in "
              << options.run_dir << " cannot be continued" << std::endl;
  if (env.present) options.group = train::join_training_job(env, config);
  const train::RunSummary s = train::run_training(config, options);
  if (s.stopped) {
    const int sig = stop_signal();
    // A rank that did not see the signal itself stops with the others.
    exit_status() = 128 + (sig > 0 ? sig : SIGINT);
    if (!rank0) return;
    std::cerr << "semifer: " << stop_signal_name() << ": stopped after step "
              << s.steps << "; checkpoint " << s.last_checkpoint
              << "\ncontinue with: semifer train " << f.config << " --out "
              << options.run_dir
              << (f.auto_resume ? " --auto-resume" : " --resume");
    // A launcher with restarts left (launch --max-restarts, torchrun)
    // may stop this rank because another failed, and start the job again.
    const int left = env.max_restarts - env.restart_count;
    if (env.present && f.auto_resume && left > 0)
      std::cerr << " (unless the launcher starts the job again: "
                << util::counted(left, "restart") << " left)";
    std::cerr << std::endl;
    return;
  }
  if (!rank0) return;
  std::cout << "trained " << s.steps - s.first_step << " steps";
  if (s.first_step > 0)
    std::cout << " (resumed at step " << s.first_step << ", now at " << s.steps
              << ")";
  std::cout << "; run folder " << options.run_dir;
  if (s.best_f1 >= 0) {
    std::ostringstream f1;
    f1 << std::fixed << std::setprecision(4) << s.best_f1;
    std::cout << "; best validation macro F1 " << f1.str() << " (network "
              << s.best_network << ", step " << s.best_step << "): "
              << (std::filesystem::path(options.run_dir) / "checkpoint_best.pt")
                     .string();
  }
  std::cout << std::endl;
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* train = app.add_subcommand(
      "train",
      "Train a recognizer: the supervised stage, or the semi-supervised stage "
      "with pseudo-labels, the EMA teacher and the Dynamic Threshold Module");
  train
      ->add_option("config", f->config, "YAML training config (docs/config.md)")
      ->required();
  train->add_option("--set", f->overrides,
                    "Override a key: --set train.epochs=3 (repeatable)");
  train->add_option("--out", f->out,
                    "Run folder (default: runs/<config name>)");
  auto* resume = train->add_flag(
      "--resume", f->resume,
      "Continue from RUN_DIR/checkpoint_last.pt (the config must match the "
      "run's except train.lr, train.epochs and the like; docs/training.md)");
  auto* overwrite =
      train
          ->add_flag("--overwrite", f->overwrite,
                     "Replace another run in RUN_DIR (without it, such a "
                     "folder is refused)")
          ->excludes(resume);
  train
      ->add_flag("--auto-resume", f->auto_resume,
                 "Continue RUN_DIR's checkpoint_last.pt when there is one, "
                 "else start the run (also in a folder where this config "
                 "stopped before its first checkpoint): for jobs that "
                 "restart themselves (launch --max-restarts, torchrun, "
                 "Slurm requeue)")
      ->excludes(resume)
      ->excludes(overwrite);
  train->add_flag(
      "--deterministic", f->deterministic,
      "One intra-op thread and deterministic kernels: bit-exact resume on CPU");
  train->add_flag("--quiet", f->quiet, "No progress lines");
  train->footer(
      "Ctrl-C (SIGINT) or SIGTERM: the run finishes its step, writes "
      "checkpoint_last.pt and exits with 130 (143); a second one ends it at "
      "once.\n"
      "Example:\n  semifer train fer.yaml --set train.epochs=5 --out runs/fer\n"
      "  semifer train fer.yaml --out runs/fer --resume");
  train->callback([f] { run(*f); });
}

}  // namespace semifer::app
