#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "semifer/data/source.h"
#include "semifer/eval/predict.h"
#include "semifer/eval/smoothing.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/infer/metrics.h"

namespace semifer::eval {

/// Reads the sources of one split (data::Role::kValidation or kLabeled) of
/// the data config at `config_path`, and only those, as ImageSet: the
/// validation pool, or the labeled pool after class-balanced selection
/// (the same selection training made). The config's classes must equal
/// `classes` (a checkpoint's, in model order); otherwise, or when the split
/// has no source or no sample, throws a semifer::Error naming the config
/// and `checkpoint`.
ImageSet load_split(const std::string& config_path, data::Role split,
                    const std::vector<std::string>& classes,
                    const std::string& checkpoint);

/// How `evaluate` runs.
struct EvalOptions {
  data::Role split = data::Role::kValidation;  ///< or kLabeled
  /// B by default, as the paper; empty: the checkpoint's preferred network
  /// (`--network auto`, infer::preferred_network).
  std::optional<infer::Network> network = infer::Network::kTeacher;
  /// Window 0: no smoothing. Otherwise the samples that are video frames
  /// (Aff-Wild2) are also scored after smoothing; other samples keep their
  /// prediction.
  SmoothOptions smooth;
  int64_t batch = 64;    ///< images per forward pass
  bool progress = true;  ///< a progress bar on stderr (when a terminal)
  /// Leave out (and list) images that cannot be decoded instead of
  /// stopping (`--on-error skip`).
  bool skip_bad = false;
};

/// Scores of a checkpoint on a split (paper section 4.3).
struct EvalReport {
  std::string checkpoint;
  std::string data_config;
  data::Role split = data::Role::kValidation;
  infer::Network network = infer::Network::kTeacher;  ///< the one scored
  infer::ModelCard card;
  /// Raw predictions (argmax per image). Macro F1 is the mean of the
  /// per-class F1 over every configured class; a class with no true and no
  /// predicted sample has F1 0 and still counts, as scikit-learn's
  /// f1_score(average="macro") used by ABAW gives.
  infer::ConfusionMatrix matrix{1};
  SmoothOptions smooth;
  /// After smoothing (when smooth.window > 0).
  std::optional<infer::ConfusionMatrix> smoothed;
  int64_t videos = 0;         ///< videos among the samples
  int64_t video_samples = 0;  ///< samples that are frames of a video
  /// Images left out (skip_bad): one-line errors naming their files.
  std::vector<std::string> skipped;
  /// One-line warnings: a recorded validation F1 near chance
  /// (infer::near_chance_warning), one class for nearly every image
  /// (one_class_warning).
  std::vector<std::string> warnings;
};

/// Predicts every sample of a split with network `options.network` of a
/// `semifer train` checkpoint (input size and normalisation from the
/// checkpoint) and scores the predictions against the labels, before and,
/// when asked, after temporal smoothing. Smoothing votes come from the
/// split's samples only; a video's length is its annotation file's.
/// Throws semifer::Error naming the file on a missing or foreign
/// checkpoint, a class mismatch, or an undecodable image.
EvalReport evaluate(const std::string& checkpoint,
                    const std::string& data_config, const EvalOptions& options);

/// A human-readable report: per-class F1, precision, recall and support,
/// accuracy and macro F1, and the confusion matrix (rows true classes,
/// columns predictions), then the same after smoothing.
std::string eval_text(const EvalReport& report);

/// One JSON object: n, accuracy, macro_f1, per_class_f1 {class: F1},
/// precision, recall, support, confusion (rows true classes), classes,
/// checkpoint, data, split, network, model, step and, after smoothing,
/// "smoothed": {window, mode, videos, video_samples, n, accuracy, macro_f1,
/// per_class_f1, precision, recall, support, confusion}.
std::string eval_json(const EvalReport& report);

}  // namespace semifer::eval
