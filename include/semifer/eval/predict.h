#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "semifer/augment/config.h"
#include "semifer/data/dataset.h"
#include "semifer/eval/smoothing.h"
#include "semifer/eval/videos.h"
#include "semifer/models/classifier.h"
#include "semifer/train/checkpoint.h"

namespace semifer::util {
class ProgressBar;
}

namespace semifer::eval {

/// Class probabilities of `model` (in eval mode, without gradient) for the
/// pool items, each decoded, resized to `augment.size` and normalised with
/// `augment.mean` / `augment.std`, no augmentation. Returns [N, C] float32
/// on the CPU, rows in the order of `items`. An undecodable image throws
/// semifer::Error naming the file (validate data with `data stats --verify`).
/// `progress`, when given, is updated with the count done after each batch.
at::Tensor predict_probs(models::ClassifierImpl& model,
                         const data::Dataset& dataset,
                         const std::vector<data::PoolItem>& items,
                         const augment::AugmentConfig& augment,
                         int64_t batch = 64,
                         util::ProgressBar* progress = nullptr);

/// Images to run a model on: the tables they come from, and the items in
/// output order.
struct ImageSet {
  data::Dataset dataset;
  std::vector<data::PoolItem> items;
};

/// How `predict` runs a checkpoint.
struct PredictOptions {
  train::Network network = train::Network::kTeacher;  ///< B by default
  SmoothOptions smooth;  ///< window 0: no smoothing
  int64_t batch = 64;    ///< images per forward pass
  bool progress = true;  ///< a progress bar on stderr (when a terminal)

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// What `predict` found: per image its probabilities and label, per video
/// the label of every frame.
struct Predictions {
  std::vector<std::string> classes;  ///< model output order, canonical names
  std::vector<std::string> paths;    ///< per image, as data::Dataset::describe
  std::vector<float> probs;          ///< [images, classes] row-major
  /// Per image, a model class index: the smoothed label of its frame for
  /// video frames when smoothing is on, else the argmax of its row.
  std::vector<int> labels;
  std::vector<VideoItems> videos;  ///< rows refer to images
  /// Per video, the labels of frames 1..length (smoothed when asked; frames
  /// without an image filled as smooth_video documents).
  std::vector<std::vector<int>> video_labels;
};

/// One network of a `semifer train` checkpoint and the checkpoint's
/// description (classes, input size, normalisation), read from the file
/// once.
struct LoadedModel {
  train::CheckpointInfo info;
  models::Classifier model;
};

/// Loads network `network` of `checkpoint`; a missing file is reported as
/// missing rather than as no checkpoint.
LoadedModel load_model(const std::string& checkpoint, train::Network network);

/// Predicts every image of `images` with `model`, at the checkpoint's input
/// size and normalisation, then smooths each video's frames
/// (`options.network` is not used: the model is loaded). An undecodable
/// image throws semifer::Error naming the file.
Predictions predict(const LoadedModel& model, const ImageSet& images,
                    const PredictOptions& options);

/// load_model(checkpoint, options.network), then predict.
Predictions predict(const std::string& checkpoint, const ImageSet& images,
                    const PredictOptions& options);

}  // namespace semifer::eval
