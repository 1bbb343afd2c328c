#include "semifer/video/tracker.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "semifer/util/error.h"

namespace semifer::video {

void TrackerOptions::validate() const {
  SEMIFER_CHECK(std::isfinite(min_iou) && min_iou > 0 && min_iou <= 1,
                "tracker IoU must be in (0, 1], got ", min_iou);
  SEMIFER_CHECK(max_missed >= 0 && max_missed <= 100000,
                "tracker max missed frames must be in 0..100000, got ",
                max_missed);
}

IouTracker::IouTracker(const TrackerOptions& options) : options_(options) {
  options_.validate();
}

std::vector<Detection> IouTracker::predictions() const {
  std::vector<Detection> predicted(tracks_.size());
  for (size_t t = 0; t < tracks_.size(); ++t) {
    predicted[t] = tracks_[t].last;
    const float steps = static_cast<float>(tracks_[t].missed + 1);
    predicted[t].x += velocity_[t].x * steps;
    predicted[t].y += velocity_[t].y * steps;
  }
  return predicted;
}

std::vector<int64_t> IouTracker::update(
    const std::vector<Detection>& detections) {
  ended_.clear();
  // Where each track's face should be now.
  const std::vector<Detection> predicted = predictions();
  std::vector<std::tuple<float, size_t, size_t>> pairs;  // iou, track, det
  for (size_t t = 0; t < tracks_.size(); ++t)
    for (size_t d = 0; d < detections.size(); ++d) {
      const float o = iou(predicted[t], detections[d]);
      if (o >= options_.min_iou) pairs.emplace_back(o, t, d);
    }
  // Highest overlap first; ties to the older track, then the first box.
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    if (std::get<0>(a) != std::get<0>(b))
      return std::get<0>(a) > std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b))
      return std::get<1>(a) < std::get<1>(b);
    return std::get<2>(a) < std::get<2>(b);
  });
  std::vector<int64_t> ids(detections.size(), -1);
  std::vector<bool> matched(tracks_.size(), false);
  for (const auto& [o, t, d] : pairs) {
    if (matched[t] || ids[d] >= 0) continue;
    matched[t] = true;
    ids[d] = tracks_[t].id;
    const Detection& now = detections[d];
    const Detection& before = tracks_[t].last;
    const float steps = static_cast<float>(tracks_[t].missed + 1);
    const Point moved{(now.x + now.w / 2 - before.x - before.w / 2) / steps,
                      (now.y + now.h / 2 - before.y - before.h / 2) / steps};
    // Smoothed velocity: detector jitter alone should not move a
    // prediction far.
    velocity_[t].x = 0.5f * velocity_[t].x + 0.5f * moved.x;
    velocity_[t].y = 0.5f * velocity_[t].y + 0.5f * moved.y;
    tracks_[t].last = now;
    tracks_[t].missed = 0;
    ++tracks_[t].seen;
  }
  std::vector<TrackState> kept;
  std::vector<Point> kept_velocity;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (!matched[t]) {
      ++tracks_[t].missed;
      if (tracks_[t].missed > options_.max_missed) {
        ended_.push_back(tracks_[t].id);
        continue;
      }
    }
    kept.push_back(tracks_[t]);
    kept_velocity.push_back(velocity_[t]);
  }
  for (size_t d = 0; d < detections.size(); ++d) {
    if (ids[d] >= 0) continue;
    TrackState s;
    s.id = next_id_++;
    s.last = detections[d];
    s.seen = 1;
    ids[d] = s.id;
    kept.push_back(s);
    kept_velocity.push_back({0, 0});
  }
  tracks_ = std::move(kept);
  velocity_ = std::move(kept_velocity);
  return ids;
}

}  // namespace semifer::video
