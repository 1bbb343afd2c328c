#include <iostream>
#include <memory>

#include "commands.h"
#include "semifer/data/config.h"
#include "semifer/data/dataset.h"
#include "semifer/data/stats.h"
#include "semifer/data/synthetic.h"

namespace semifer::app {

namespace {

struct StatsFlags {
  std::string config;
  bool json = false;
  bool verify = false;
  int threads = 0;
};

struct SynthFlags {
  data::SyntheticConfig config;
};

}  // namespace

void add_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Inspect and generate data sets");
  data->require_subcommand(1);

  auto stats_flags = std::make_shared<StatsFlags>();
  CLI::App* stats = data->add_subcommand(
      "stats",
      "Read every source of a data config and print counts per class "
      "and source, the unlabeled pool, and what was skipped and why");
  stats->add_option("config", stats_flags->config, "YAML data config")
      ->required();
  stats->add_flag("--json", stats_flags->json,
                  "Print one JSON object on stdout instead of a table");
  stats->add_flag("--verify", stats_flags->verify,
                  "Also decode every image and report the ones that fail");
  stats
      ->add_option("--threads", stats_flags->threads,
                   "Decoding threads for --verify (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  stats->footer("Example:\n  semifer data stats data.yaml --json --verify");
  stats->callback([stats_flags] {
    data::DataConfig config = data::load_data_config(stats_flags->config);
    data::BuildOptions options;
    options.verify = stats_flags->verify;
    options.threads = stats_flags->threads;
    data::Dataset dataset = data::build_dataset(config, options);
    std::cout << (stats_flags->json ? data::stats_json(dataset)
                                    : data::stats_text(dataset))
              << std::endl;
  });

  auto synth_flags = std::make_shared<SynthFlags>();
  CLI::App* synth = data->add_subcommand(
      "synth",
      "Write a small synthetic face-expression data set (labeled "
      "folder, Aff-Wild2 videos, RecordIO pool, CSV validation list) "
      "and its data.yaml");
  synth->add_option("out", synth_flags->config.out_dir, "Output folder")
      ->required();
  synth->add_option("--size", synth_flags->config.size, "Image side in pixels")
      ->check(CLI::Range(32, 512));
  synth
      ->add_option("--scale", synth_flags->config.scale,
                   "Multiplies every image count")
      ->check(CLI::Range(0.01, 100.0));
  synth->add_option("--seed", synth_flags->config.seed, "Random seed");
  synth->footer(
      "Example:\n  semifer data synth /tmp/faces && semifer data "
      "stats /tmp/faces/data.yaml");
  synth->callback([synth_flags] {
    const data::SyntheticSummary summary =
        data::write_synthetic_dataset(synth_flags->config);
    std::cout << "wrote " << summary.images << " images to "
              << synth_flags->config.out_dir
              << "\ndata config: " << summary.config_path << std::endl;
  });
}

}  // namespace semifer::app
