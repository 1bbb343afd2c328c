#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semifer::eval {

/// How the sliding window of temporal smoothing turns the predictions of a
/// video's frames into one label per frame (paper section 3.5).
enum class SmoothMode {
  /// Each frame gets the majority vote of the window centred on it.
  kCentered,
  /// Non-overlapping windows of W frames from frame 1 (1..W, W+1..2W, ...);
  /// every frame of a window gets that window's majority vote.
  kBlock,
  /// Each frame gets the argmax of the class probabilities averaged over
  /// the window centred on it.
  kMean,
};

/// "centered", "block" or "mean".
const char* smooth_mode_name(SmoothMode mode);

/// Parses a mode name; throws semifer::Error listing the known names.
SmoothMode parse_smooth_mode(const std::string& name);

/// Temporal smoothing options. The paper uses a window of 350 frames.
struct SmoothOptions {
  /// Window length in frames. 0 = no smoothing (callers skip it;
  /// smooth_video treats it as 1). 1 = predictions unchanged, but frames
  /// without an image still get a label (see smooth_video).
  int window = 0;
  SmoothMode mode = SmoothMode::kCentered;

  /// Throws semifer::Error when `window` is negative.
  void validate() const;
};

/// The label of one smoothing window from its per-class vote counts and
/// probability sums (`votes`, `mass`: num_classes each): the class with the
/// most votes, ties to the larger mass, then to the lowest index; for
/// kMean, the class with the largest mass. -1 when `frames` (the frames
/// with a prediction in the window) is 0. The one rule smooth_video and
/// the video pipeline's streaming smoother (video/smoother.h) share.
int window_label(const int32_t* votes, const double* mass, int num_classes,
                 int32_t frames, SmoothMode mode);

/// Smooths the predictions of one video and returns one model class index
/// for every frame 1..length (element f - 1 is frame f).
///
/// `frames` are the 1-based numbers of the frames that have a prediction
/// (a face image), strictly increasing, each in [1, length], at least one;
/// `probs` holds their class probabilities, [frames.size(), num_classes]
/// row-major. A frame's vote is the argmax of its row (the lowest class on
/// equal probabilities).
///
/// Windows are measured in frame numbers, not in list positions: frames
/// without an image keep their place in time. They cast no vote but still
/// receive a label.
/// - The window centred on frame f spans frames f - (W - 1) / 2 to
///   f + W / 2 (integer division; for even W one more frame after f than
///   before), clipped to 1..length, so windows near the ends hold fewer
///   frames.
/// - Ties between classes with the most votes go to the one with the larger
///   sum of probabilities over the window's frames, then to the lowest model
///   class index.
/// - A frame whose window holds no frame with a prediction gets the smoothed
///   label of the nearest frame that has one (the earlier on equal
///   distance).
/// Throws semifer::Error when the inputs break these rules.
std::vector<int> smooth_video(const std::vector<int32_t>& frames,
                              const std::vector<float>& probs, int num_classes,
                              int32_t length, const SmoothOptions& options);

/// smooth_video with hard predictions: `labels` (one model class index per
/// entry of `frames`) stand for one-hot probabilities, so vote ties go to
/// the lowest class index.
std::vector<int> smooth_labels(const std::vector<int32_t>& frames,
                               const std::vector<int>& labels, int num_classes,
                               int32_t length, const SmoothOptions& options);

}  // namespace semifer::eval
