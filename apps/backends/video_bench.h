#pragma once

#include <string>
#include <vector>

#include "semifer/video/pipeline.h"

namespace semifer::video {

/// What `semifer bench video` measures: `semifer video`'s whole job (decode,
/// detect, track, crop, classify, smooth, write the CSV) on one video, with
/// whole-frame detection every `options.detect_every` frames against a
/// reference run of the same video with it every `reference_every` frames,
/// the two in turn.
struct VideoBenchConfig {
  /// The video; empty: a synthetic one (drifting_faces, `frames` frames of
  /// `width` x `height`) written to a temporary folder.
  std::string input;
  /// Face images for the synthetic video (read recursively, sorted, up to
  /// 16 spread over the folder; centre squares); empty: rendered faces.
  std::string faces;
  int frames = 300;
  int width = 640;
  int height = 480;
  /// The model; empty: an untrained smallnet at 48x48 for the 7 FER2013
  /// classes (speed does not depend on the weights).
  std::string checkpoint;
  VideoOptions options;
  int reference_every = 1;  ///< 0: no reference run
  int repeats = 1;          ///< runs of each, in turn
};

/// One configuration's runs.
struct VideoBenchRuns {
  int detect_every = 0;
  std::vector<VideoSummary> summaries;  ///< per repeat
  /// The median over repeats of frames per second end to end.
  double fps = 0;
};

struct VideoBenchResult {
  std::string input;  ///< what was measured (the synthetic video's path)
  int width = 0;
  int height = 0;
  VideoBenchRuns measured;
  VideoBenchRuns reference;  ///< empty when reference_every is 0
};

/// Runs the benchmark. Throws semifer::Error for bad options, a video that
/// cannot be read or a model that cannot be loaded.
VideoBenchResult bench_video(const VideoBenchConfig& config);

}  // namespace semifer::video
