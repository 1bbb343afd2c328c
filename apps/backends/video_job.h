#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "semifer/infer/recognizer.h"
#include "semifer/video/pipeline.h"

namespace semifer::video {

/// What `semifer video` does: which inputs, which model, which files.
struct VideoJob {
  std::vector<std::string> inputs;  ///< video files, frame or photo folders
  int camera = -1;                  ///< a capture device instead (>= 0)
  std::string checkpoint;
  RecognizerOptions recognizer;
  std::string out;          ///< folder: <name>.csv per input
  std::string abaw;         ///< folder for <name>.txt ABAW files, unless empty
  bool annotate = false;    ///< <out>/<name>.annotated.avi
  bool save_crops = false;  ///< <out>/<name>_crops/ (CropSink)
  double fps = 30;          ///< of frame folders (timestamps)
  VideoOptions options;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// One input's outcome.
struct VideoInputResult {
  std::string input;
  std::string csv;   ///< written (complete, or up to `summary.error`)
  std::string abaw;  ///< the ABAW file written, or empty
  std::string annotated;
  std::string crops;  ///< the crop folder, or empty
  VideoSummary summary;
  /// A folder of independent photos: its faces are not tracked.
  bool photos = false;
  /// Why the input failed before or while running (cannot open, a bad
  /// frame: then the CSV holds every frame before it), or empty.
  std::string error;
};

/// Runs every input in turn (one model, loaded once). An input that cannot
/// be opened or fails midway is reported in its result and the others
/// still run; `done` is called after each. `warn` is given the model's
/// warning (Recognizer::model_warning), when it has one, before the first
/// input. Throws semifer::Error for a bad job or model before any input
/// runs.
std::vector<VideoInputResult> run_video_job(
    const VideoJob& job,
    const std::function<void(const VideoInputResult&)>& done = {},
    const std::function<void(const std::string&)>& warn = {});

}  // namespace semifer::video
