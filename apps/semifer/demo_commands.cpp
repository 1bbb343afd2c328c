#include <iostream>
#include <memory>

#include "backends/demo.h"
#include "commands.h"
#include "semifer/util/device.h"

namespace semifer::app {

void add_demo_commands(CLI::App& app) {
  auto config = std::make_shared<demo::DemoConfig>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "The whole method on built-in synthetic faces, no data needed: "
      "generate a data set, train supervised and semi-supervised with the "
      "DTM, evaluate, smooth the videos, print a Table-1-style comparison "
      "and write the HTML report");
  cmd->add_option("--out", config->out_dir,
                  "Folder for the data, runs, configs and report")
      ->capture_default_str();
  cmd->add_option("--pretrain-steps", config->pretrain_steps,
                  "Steps of the supervised stage")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--steps", config->steps,
                  "Steps of each row after the supervised stage")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--data-scale", config->data_scale,
                  "Multiplies every synthetic image count")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 20.0));
  cmd->add_option("--per-class", config->per_class,
                  "Labeled images kept per class")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--tau", config->initial_tau,
                  "The DTM's thresholds before its first update")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--steps-per-epoch", config->steps_per_epoch,
                  "Steps between DTM updates (and validations)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--smooth", config->smooth_window,
                  "Smoothing window in frames (0: none)")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--threads", config->threads, "Loader threads")
      ->capture_default_str()
      ->check(CLI::Range(1, semifer::util::kMaxThreads));
  cmd->add_option("--seed", config->seed, "Seed of the data and training")
      ->capture_default_str();
  cmd->add_flag("--quiet", *quiet, "No progress output");
  cmd->footer(
      "Example:\n  semifer demo --out /tmp/semifer-demo\n"
      "  (a few minutes on 2 CPU cores; then open "
      "/tmp/semifer-demo/runs/ssl_dtm/report.html)");
  cmd->callback([config, quiet] {
    config->progress = !*quiet;
    const demo::DemoResult r =
        demo::run_demo(*config, *quiet ? nullptr : &std::cerr);
    std::cout << "\nValidation (network B, " << r.rows.front().n
              << " samples: stills and video frames), F1 in %:\n\n"
              << demo::format_table(r) << "\nreport: " << r.report_path
              << "\ndata config: " << r.data_config
              << "\nwall time: " << static_cast<int64_t>(r.seconds) << " s"
              << std::endl;
  });
}

}  // namespace semifer::app
