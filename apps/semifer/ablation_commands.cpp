#include <iostream>
#include <memory>

#include "backends/ablation.h"
#include "commands.h"
#include "semifer/util/strings.h"
#include "stop_signals.h"

namespace semifer::app {

namespace {

struct AblationFlags {
  ablation::AblationConfig config;
  std::string rows = "supervised,fixed,dtm";
  std::vector<std::string> custom;
  bool quiet = false;
};

void run(AblationFlags& f) {
  ablation::AblationConfig c = f.config;
  c.rows.clear();
  for (const auto& name : util::split(f.rows, ',')) {
    if (!name.empty()) c.rows.push_back(ablation::parse_row(std::string(name)));
  }
  for (const auto& spec : f.custom) c.rows.push_back(ablation::parse_row(spec));
  c.progress = !f.quiet;
  c.stop_requested = [] { return stop_signal() != 0; };
  StopSignals signals;
  const ablation::AblationResult r = ablation::run_ablation(c);
  if (r.stopped) {
    const int sig = stop_signal();
    std::cerr << "semifer: " << stop_signal_name()
              << ": stopped; the same command continues where it stopped"
              << std::endl;
    exit_status() = 128 + sig;
    return;
  }
  std::cout << ablation::format_markdown(r) << "\ntables: " << r.markdown_path
            << ", " << r.json_path << "\nreport: " << r.html_path << std::endl;
}

}  // namespace

void add_ablation_commands(CLI::App& app) {
  auto f = std::make_shared<AblationFlags>();
  CLI::App* cmd = app.add_subcommand(
      "ablation",
      "The paper's protocol over several seeds: per seed a supervised stage, "
      "then every row continues from it for the same steps; networks A and B "
      "scored on the validation split, with paired bootstrap intervals of "
      "each row's difference to supervised-only (docs/training.md)");
  cmd->add_option("config", f->config.config,
                  "YAML training config (docs/config.md); each row overrides "
                  "keys of it")
      ->required();
  cmd->add_option("--out", f->config.out_dir,
                  "Folder: seed-K/pretrain, seed-K/ROW, ablation.md, "
                  "ablation.json, index.html")
      ->required();
  cmd->add_option("--seeds", f->config.seeds, "Number of seeds")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--first-seed", f->config.first_seed,
                  "train.seed of the first seed (the others follow)")
      ->capture_default_str();
  cmd->add_option("--rows", f->rows,
                  "Built-in rows, comma-separated: supervised, fixed, dtm, "
                  "flexmatch, freematch, softmatch, align, heldout, weakview, "
                  "teacher, config")
      ->capture_default_str();
  cmd->add_option("--row", f->custom,
                  "A custom row NAME:key=value;key=value (repeatable)");
  cmd->add_option("--set", f->config.overrides,
                  "Override a key in every stage: --set train.lr=1e-3 "
                  "(repeatable)");
  cmd->add_option("--pretrain-epochs", f->config.pretrain_epochs,
                  "Epochs of the supervised stage (default: train.epochs)")
      ->check(positive());
  cmd->add_option("--epochs", f->config.epochs,
                  "Epochs of each row (default: train.epochs)")
      ->check(positive());
  cmd->add_option("--bootstrap", f->config.bootstrap.resamples,
                  "Bootstrap resamples of the intervals")
      ->capture_default_str()
      ->check(positive());
  cmd->add_flag("--quiet", f->quiet, "No progress lines");
  cmd->footer(
      "A stage already finished is kept; one stopped part-way (Ctrl-C, a lost "
      "session) resumes from its checkpoint when the same command runs "
      "again.\nExample:\n  semifer ablation experiments/fer2013/train.yaml "
      "--out runs/abl --seeds 3 \\\n    --rows supervised,dtm,freematch "
      "--row 'mine:ssl.thresholds=freematch;train.lr=1e-3'");
  cmd->callback([f] { run(*f); });
}

}  // namespace semifer::app
