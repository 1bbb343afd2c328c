#pragma once

#include <cstdint>
#include <string>

#include "semifer/io/image.h"
#include "semifer/util/random.h"

namespace semifer::data {

/// Who a synthetic face is: what stays the same across one person's images.
struct FaceIdentity {
  float tone = 0.7f;    ///< skin tone, 0.35 (dark) .. 1 (light)
  float width = 0.33f;  ///< face half-width, fraction of the image
  float height = 0.41f;
  float hair[3] = {50, 30, 20};  ///< brow colour
};

/// A random identity drawn from `gen`.
FaceIdentity random_identity(util::Generator& gen);

/// Draws one stylized face whose brows, eyes and mouth take a shape typical
/// of canonical expression `expression` (labels.h), with pose, lighting,
/// blur and noise drawn from `gen`, of `identity` (a random one from `gen`
/// when null). `wildness` scales pose, lighting, blur and noise: 1 is
/// in-the-wild, 0 a studio. `intensity` scales how far brows, eyes and
/// mouth move from the neutral face: 1 a full expression, near 0 a subtle
/// one that looks almost neutral. Returns a [size, size] RGB image.
io::Image render_face(int expression, int size, util::Generator& gen,
                      const FaceIdentity* identity = nullptr,
                      float wildness = 1.0f, float intensity = 1.0f);

/// What write_synthetic_dataset writes.
struct SyntheticConfig {
  std::string out_dir;
  int size = 64;       ///< image side
  double scale = 1.0;  ///< multiplies every count below
  uint64_t seed = 0;
  /// Labeled images per class (Neutral .. Other), imbalanced like Aff-Wild2.
  int labeled[8] = {120, 30, 15, 12, 90, 50, 25, 70};
  /// People the labeled images show (0: each image a new person). Few
  /// people make a labeled set that generalises poorly, as small FER sets
  /// do; the unlabeled pool and validation always show new people.
  int labeled_identities = 0;
  /// Pose, lighting, blur and noise of the labeled images (render_face's
  /// wildness; everything else is drawn at 1). Below 1, the labeled set is
  /// cleaner than the faces a model meets, as posed FER sets are.
  float labeled_wildness = 1.0f;
  /// render_face's wildness of every other image (pool, videos,
  /// validation).
  float wildness = 1.0f;
  /// Expression intensity of every image is drawn uniformly from
  /// [min_intensity, 1] (render_face's intensity): below 1, some faces show
  /// subtle expressions, as most video frames do.
  float min_intensity = 1.0f;
  /// Fraction of the labeled images that show another expression than the
  /// class they are filed under (annotators disagree on real FER sets).
  float label_noise = 0.0f;
  int unlabeled = 400;  ///< RecordIO face pool
  /// Below 0: the pool's images have `wildness`. Otherwise each pool image
  /// draws its wildness uniformly from [unlabeled_min_wildness, wildness],
  /// as a face-recognition set holds faces from studio-like to wild.
  float unlabeled_min_wildness = -1.0f;
  /// Class mix of the pool (Neutral .. Other; normalised): a face-
  /// recognition set is mostly neutral and smiling faces.
  double unlabeled_mix[8] = {0.45, 0.05, 0.03, 0.03, 0.3, 0.06, 0.05, 0.03};
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
