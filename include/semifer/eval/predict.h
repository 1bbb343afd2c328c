#pragma once

#include <optional>
#include <string>
#include <vector>

#include "semifer/data/dataset.h"
#include "semifer/eval/smoothing.h"
#include "semifer/eval/videos.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/models/classifier.h"

namespace semifer::eval {

/// Images to run a model on: the tables they come from, and the items in
/// output order.
struct ImageSet {
  data::Dataset dataset;
  std::vector<data::PoolItem> items;
};

/// How `predict` runs a checkpoint.
struct PredictOptions {
  /// B by default; empty: the checkpoint's preferred network.
  std::optional<infer::Network> network = infer::Network::kTeacher;
  SmoothOptions smooth;  ///< window 0: no smoothing
  int64_t batch = 64;    ///< images per forward pass
  bool progress = true;  ///< progress through the installed log sink
  /// Leave out images that cannot be decoded (listed in
  /// Predictions::skipped) instead of stopping (`--on-error skip`).
  bool skip_bad = false;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// What `predict` found: per image its probabilities and label, per video
/// the label of every frame.
struct Predictions {
  std::vector<std::string> classes;  ///< model output order, canonical names
  std::vector<std::string> paths;    ///< per image, as data::Dataset::describe
  /// Per image (row), its position in the ImageSet's items (they differ
  /// when images were skipped).
  std::vector<size_t> items;
  /// The images left out (skip_bad): one-line errors naming their files.
  std::vector<std::string> skipped;
  std::vector<float> probs;  ///< [images, classes] row-major
  /// Per image, a model class index: the smoothed label of its frame for
  /// video frames when smoothing is on, else the argmax of its row.
  std::vector<int> labels;
  std::vector<VideoItems> videos;  ///< rows refer to images
  /// Per video, the labels of frames 1..length (smoothed when asked; frames
  /// without an image filled as smooth_video documents).
  std::vector<std::vector<int>> video_labels;
};

/// A loaded model and its card (infer/checkpoint.h).
using infer::LoadedModel;

/// Predicts every image of `images` with `model`, at the checkpoint's input
/// size and normalisation, then smooths each video's frames
/// (`options.network` is not used: the model is loaded). An undecodable
/// image throws semifer::Error naming the file, or is left out with
/// options.skip_bad.
Predictions predict(const LoadedModel& model, const ImageSet& images,
                    const PredictOptions& options);

/// A warning (one line, without "warning: ") when one class takes at least
/// 90% of 20 or more predicted labels (and, when `truth` is given, less
/// than half of the true labels): the model looks degenerate. Empty
/// otherwise.
std::string one_class_warning(const std::vector<int>& predicted,
                              const std::vector<std::string>& classes,
                              const std::vector<int>* truth = nullptr);

/// infer::load_model(checkpoint, options.network), then predict.
Predictions predict(const std::string& checkpoint, const ImageSet& images,
                    const PredictOptions& options);

}  // namespace semifer::eval
