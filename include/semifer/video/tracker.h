#pragma once

#include <cstdint>
#include <vector>

#include "semifer/video/detector.h"

namespace semifer::video {

/// How detections are linked into tracks across frames.
struct TrackerOptions {
  /// A detection continues a track when its box overlaps the track's
  /// predicted box by at least this IoU.
  float min_iou = 0.3f;
  /// A track that finds no detection survives this many frames (its face
  /// was missed or hidden); then it ends and a face seen later at that
  /// place gets a new id.
  int max_missed = 10;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// A track's state after a frame.
struct TrackState {
  int64_t id = 0;
  Detection last;    ///< its last detection
  int missed = 0;    ///< frames since its last detection (0: seen now)
  int64_t seen = 0;  ///< frames it was detected in
};

/// Links detections frame to frame by IoU with each track's box moved by
/// its recent velocity (constant-velocity prediction, so two faces that
/// cross keep their ids while they stay apart), greedily, highest IoU
/// first. Ids are 0, 1, 2, ... in order of first appearance.
class IouTracker {
 public:
  explicit IouTracker(const TrackerOptions& options = {});

  /// Takes one frame's detections; returns the track id of each, in order.
  /// Unmatched detections start new tracks; tracks missed for more than
  /// max_missed frames end.
  std::vector<int64_t> update(const std::vector<Detection>& detections);

  /// The live tracks after the last update, in id order: those detected in
  /// it (missed == 0) and those kept through a miss.
  const std::vector<TrackState>& tracks() const { return tracks_; }
  /// Where each live track's face should be in the next frame (its last box
  /// moved by its velocity), in tracks() order.
  std::vector<Detection> predictions() const;
  /// The ids that ended in the last update.
  const std::vector<int64_t>& ended() const { return ended_; }

 private:
  TrackerOptions options_;
  std::vector<TrackState> tracks_;
  std::vector<Point> velocity_;  ///< per track, box centre per frame
  std::vector<int64_t> ended_;
  int64_t next_id_ = 0;
};

}  // namespace semifer::video
