#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "commands.h"
#include "semifer/data/config.h"
#include "semifer/data/dataset.h"
#include "semifer/data/stats.h"
#include "semifer/data/synthetic.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"

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
  std::vector<int> labeled;
  std::vector<double> unlabeled_mix;
  bool overwrite = false;
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
                  "Also decode every image, report the ones that fail and "
                  "print how many decoded (verified: N images decoded, M "
                  "failed)");
  stats
      ->add_option("--threads", stats_flags->threads,
                   "Decoding threads for --verify (0 = all cores)")
      ->check(CLI::Range(0, semifer::util::kMaxThreads));
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
  data::SyntheticConfig& sc = synth_flags->config;
  synth
      ->add_option("--labeled", synth_flags->labeled,
                   "Labeled images of Neutral, Anger, Disgust, Fear, "
                   "Happiness, Sadness, Surprise, Other (8 counts)")
      ->expected(8)
      ->check(non_negative());
  synth
      ->add_option("--labeled-identities", sc.labeled_identities,
                   "People the labeled images show (0: each a new person)")
      ->capture_default_str()
      ->check(non_negative());
  synth
      ->add_option("--labeled-wildness", sc.labeled_wildness,
                   "Pose, lighting, blur and noise of the labeled images "
                   "(0 studio .. 1 in the wild)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 2.0));
  synth
      ->add_option("--wildness", sc.wildness,
                   "The same for the pool, videos and validation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 2.0));
  synth
      ->add_option("--min-intensity", sc.min_intensity,
                   "Expression intensity is drawn from [this, 1] (subtle "
                   "expressions below 1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  synth
      ->add_option("--label-noise", sc.label_noise,
                   "Fraction of labeled images that show another "
                   "expression than their label")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  synth->add_option("--unlabeled", sc.unlabeled, "Images in the RecordIO pool")
      ->capture_default_str()
      ->check(positive());
  synth
      ->add_option("--unlabeled-min-wildness", sc.unlabeled_min_wildness,
                   "Pool images draw their wildness from [this, --wildness] "
                   "(below 0: all at --wildness)")
      ->capture_default_str()
      ->check(CLI::Range(-1.0, 2.0));
  synth
      ->add_option("--unlabeled-mix", synth_flags->unlabeled_mix,
                   "Class mix of the pool (8 weights, Neutral .. Other)")
      ->expected(8)
      ->check(non_negative());
  synth
      ->add_option("--validation", sc.validation, "Validation stills per class")
      ->capture_default_str()
      ->check(positive());
  synth->add_option("--videos", sc.videos, "Aff-Wild2-style videos")
      ->capture_default_str()
      ->check(positive());
  synth->add_option("--frames", sc.frames, "Frames per video")
      ->capture_default_str()
      ->check(positive());
  synth->add_flag("--overwrite", synth_flags->overwrite,
                  "Delete what OUT holds first (without it, a folder that is "
                  "not empty is refused: stale images would stay in the set)");
  synth->footer(
      "Example:\n  semifer data synth /tmp/faces && semifer data "
      "stats /tmp/faces/data.yaml");
  synth->callback([synth_flags] {
    data::SyntheticConfig& c = synth_flags->config;
    if (!synth_flags->labeled.empty()) {
      std::copy(synth_flags->labeled.begin(), synth_flags->labeled.end(),
                c.labeled);
    }
    if (!synth_flags->unlabeled_mix.empty()) {
      std::copy(synth_flags->unlabeled_mix.begin(),
                synth_flags->unlabeled_mix.end(), c.unlabeled_mix);
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path out = c.out_dir;
    if (fs::is_directory(out, ec) && !fs::is_empty(out, ec)) {
      SEMIFER_CHECK(synth_flags->overwrite, out.string(),
                    " is not empty: its images would mix with the new ones "
                    "and its data.yaml would be replaced (pass --overwrite "
                    "to delete its contents first, or another folder)");
      for (const auto& entry : fs::directory_iterator(out)) {
        fs::remove_all(entry.path(), ec);
        SEMIFER_CHECK(!ec, "cannot delete ", entry.path().string(), ": ",
                      ec.message());
      }
    }
    const data::SyntheticSummary summary =
        data::write_synthetic_dataset(synth_flags->config);
    std::cout << "wrote " << summary.images << " images to "
              << synth_flags->config.out_dir
              << "\ndata config: " << summary.config_path << std::endl;
  });

#ifdef SEMIFER_WITH_VIDEO
  add_face_template_command(data);
#endif
}

}  // namespace semifer::app
