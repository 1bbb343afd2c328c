#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/data/dataset.h"
#include "semifer/eval/smoothing.h"

namespace semifer::eval {

/// The frames of one video among a list of pool items.
struct VideoItems {
  std::string name;     ///< video id (Aff-Wild2 annotation or folder name)
  uint32_t source = 0;  ///< index into Dataset::tables
  int32_t video = -1;   ///< index into that table's `videos`
  /// The video spans frames 1..length: the table's `video_frames` (the
  /// annotation file's length, frames without an image included) when it
  /// has one, else the largest frame number among the items.
  int32_t length = 0;
  std::vector<size_t> rows;     ///< indices into the items, in frame order
  std::vector<int32_t> frames;  ///< their frame numbers, increasing
};

/// Groups the items that are frames of a video (Sample::video >= 0) by
/// source and video, ordered by source then video. Items of no video are
/// left out. Throws semifer::Error naming both files when two items are the
/// same frame of one video.
std::vector<VideoItems> group_videos(const data::Dataset& dataset,
                                     const std::vector<data::PoolItem>& items);

/// Labels of predictions after temporal smoothing.
struct SmoothedLabels {
  /// Per item: its frame's smoothed label, or the argmax of its
  /// probabilities when it belongs to no video.
  std::vector<int> items;
  /// Per video: the labels of frames 1..length (smooth_video); frames
  /// without an item are filled as smooth_video documents.
  std::vector<std::vector<int>> videos;
};

/// Smooths the predictions of each video. `probs` is [num_items,
/// num_classes] row-major, rows in item order. With `options.window` 0 the
/// items keep their argmax and videos are filled as with a window of 1.
SmoothedLabels smooth_items(const std::vector<VideoItems>& videos,
                            const std::vector<float>& probs, int num_classes,
                            const SmoothOptions& options);

}  // namespace semifer::eval
