#pragma once

#include <cstdint>
#include <string>

#include "semifer/io/image.h"
#include "semifer/util/random.h"

namespace semifer::data {

/// Draws one stylized face whose brows, eyes and mouth take a shape typical
/// of canonical expression `expression` (labels.h), with a random identity
/// (face shape, skin tone), pose, lighting and noise drawn from `gen`.
/// Returns a [size, size] RGB image.
io::Image render_face(int expression, int size, util::Generator& gen);

/// What write_synthetic_dataset writes.
struct SyntheticConfig {
  std::string out_dir;
  int size = 64;       ///< image side
  double scale = 1.0;  ///< multiplies every count below
  uint64_t seed = 0;
  /// Labeled images per class (Neutral .. Other), imbalanced like Aff-Wild2.
  int labeled[8] = {120, 30, 15, 12, 90, 50, 25, 70};
  int unlabeled = 400;  ///< RecordIO face pool
  int validation = 20;  ///< per class, CSV list
  int videos = 3;       ///< Aff-Wild2-style videos
  int frames = 90;      ///< frames per video
};

struct SyntheticSummary {
  std::string config_path;  ///< the data.yaml written
  int64_t images = 0;
};

/// Writes a small data set in several real formats: an image folder
/// (labeled), Aff-Wild2 annotations and frames with unannotated (-1) and
/// missing frames, an InsightFace-style RecordIO pool (unlabeled) and a CSV
/// list (validation), plus `data.yaml` tying them together.
SyntheticSummary write_synthetic_dataset(const SyntheticConfig& config);

}  // namespace semifer::data
