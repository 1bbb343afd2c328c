#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "semifer/eval/smoothing.h"

namespace semifer::video {

/// How a track's per-frame probabilities are smoothed in time.
struct SmoothingOptions {
  /// "centered", "mean", "block": the offline windows of `semifer eval`
  /// (eval/smoothing.h), computed as the frames stream in, each frame's
  /// result final once its window has passed; "ema": online, an
  /// exponential moving average (cameras); "none".
  std::string mode = "centered";
  /// Window in frames (centered, mean, block); the paper uses 350.
  int window = 350;
  /// Window in milliseconds instead of frames (centered and mean, for
  /// variable frame rates): a frame's window holds the frames within
  /// [t - W/2, t + W/2] ms. 0: measured in frames.
  double window_ms = 0;
  /// ema: weight of the newest frame (0, 1]; 1 is no smoothing.
  float ema_alpha = 0.25f;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
  /// True unless mode is "none".
  bool enabled() const { return mode != "none"; }
};

/// A frame's smoothed result.
struct Smoothed {
  int64_t frame = 0;
  int label = -1;
  std::vector<float> probabilities;  ///< window mean (ema: the average)
};

/// The smoother of one track. Frames come in increasing order; results come
/// out in the same order as soon as they are final (a frame's window has
/// ended), so a long video streams with only a window of frames kept.
/// Labels are eval::smooth_video's for the same frames (window_label).
class TrackSmoother {
 public:
  TrackSmoother(int num_classes, const SmoothingOptions& options);

  /// Adds frame `frame` (timestamp `t_ms`) with its class probabilities
  /// (num_classes). Throws semifer::Error when frames do not increase.
  void add(int64_t frame, double t_ms, const float* probabilities);
  /// Moves into `out` the results that are final once every frame up to
  /// `frame` (time `t_ms`) has been seen.
  void ready(int64_t frame, double t_ms, std::vector<Smoothed>& out);
  /// Moves into `out` every result left (the track or the video ended).
  void finish(std::vector<Smoothed>& out);

 private:
  struct Entry {
    int64_t frame;
    double t_ms;
    std::vector<float> probs;
    std::vector<int32_t> votes;  ///< prefix sums up to and with this entry
    std::vector<double> mass;
    bool done = false;
  };
  /// The keys (frame numbers, or ms with window_ms) of an entry's window,
  /// both ends included.
  struct Window {
    double lo;
    double hi;
  };
  double key(const Entry& e) const;
  Window window(const Entry& e) const;
  bool online() const;
  bool closed(const Entry& e, int64_t frame, double t_ms) const;
  Smoothed result(size_t index) const;
  void drop_unneeded();

  int num_classes_;
  SmoothingOptions options_;
  eval::SmoothMode mode_ = eval::SmoothMode::kCentered;
  std::deque<Entry> entries_;
  size_t next_ = 0;                  ///< first entry without a result
  std::vector<int32_t> base_votes_;  ///< prefix before entries_.front()
  std::vector<double> base_mass_;
  std::vector<float> ema_;
  bool has_ema_ = false;
};

}  // namespace semifer::video
