#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "backends/preview.h"
#include "commands.h"
#include "semifer/data/dataset.h"

namespace semifer::app {

namespace {
struct PreviewFlags {
  std::string images;
  std::string out;
  int n = 8;
  uint64_t seed = 0;
  augment::AugmentConfig config;
};
}  // namespace

void add_augment_commands(CLI::App& app) {
  CLI::App* aug = app.add_subcommand("augment", "Look at the augmentations");
  aug->require_subcommand(1);
  auto f = std::make_shared<PreviewFlags>();
  f->config.size = 112;
  CLI::App* preview = aug->add_subcommand(
      "preview",
      "Write a PNG grid with, per image: the original (resized), "
      "its weak view and its strong view");
  preview
      ->add_option("--images", f->images, "Folder of images (read recursively)")
      ->required()
      ->check(CLI::ExistingDirectory);
  preview->add_option("--out", f->out, "Output PNG")->required();
  preview->add_option("--n", f->n, "Number of images (rows)")
      ->check(CLI::Range(1, 256));
  preview->add_option("--size", f->config.size, "View size in pixels")
      ->check(CLI::Range(8, 1024));
  preview->add_option("--seed", f->seed, "Seed of the views");
  preview
      ->add_option("--magnitude", f->config.randaugment_magnitude,
                   "RandAugment magnitude bin (0..30)")
      ->check(CLI::Range(0, 30));
  preview->footer(
      "Example:\n  semifer augment preview --images faces/ --out grid.png --n "
      "8");
  preview->callback([f] {
    const data::Dataset ds = data::image_folder_dataset(f->images);
    std::vector<io::Image> images;
    // Spread the picks over the folder rather than taking the first n.
    const size_t n =
        std::min<size_t>(static_cast<size_t>(f->n), ds.unlabeled.size());
    for (size_t i = 0; i < n; ++i) {
      images.push_back(ds.load(ds.unlabeled[i * ds.unlabeled.size() / n]));
    }
    io::write_image(f->out, augment::preview_grid(images, f->config, f->seed));
    std::cout << "wrote " << f->out << " (" << n
              << " rows: original, weak, strong)" << std::endl;
  });
}

}  // namespace semifer::app
