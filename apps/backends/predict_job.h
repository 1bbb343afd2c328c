#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/data/source.h"
#include "semifer/eval/predict.h"

namespace semifer::eval {

/// What `semifer predict` does: which images, which checkpoint, which files
/// to write.
struct PredictJob {
  std::string checkpoint;  ///< a `semifer train` checkpoint
  /// Image files and folders (find_images); or else, `data` with `split`.
  std::vector<std::string> inputs;
  std::string data;  ///< a data config whose `split` is predicted (load_split)
  data::Role split = data::Role::kValidation;
  std::string csv;   ///< write_predictions_csv here ("-": stdout), unless empty
  std::string abaw;  ///< write_abaw_submission here, unless empty
  PredictOptions options;

  /// Throws semifer::Error unless exactly one of inputs and data is given
  /// and at least one of csv and abaw.
  void validate() const;
};

/// What run_predict_job did.
struct PredictSummary {
  int64_t images = 0;      ///< images predicted
  int64_t videos = 0;      ///< of which frames of this many videos
  int64_t non_frames = 0;  ///< images of no video (only in the CSV)
  int abaw_files = 0;      ///< ABAW files written
  /// Images left out (options.skip_bad): one-line errors naming the files.
  std::vector<std::string> skipped;
  /// One-line warnings (near-chance recorded F1, one class for nearly all).
  std::vector<std::string> warnings;
};

/// Finds the images, predicts them and writes the files. With `abaw` set,
/// inputs without a video, or with two videos of one name, are refused
/// (check_abaw_videos) before the model runs. Throws
/// semifer::Error naming the file on bad input (an undecodable image stops
/// the run; the output files are then not written).
PredictSummary run_predict_job(const PredictJob& job);

}  // namespace semifer::eval
