#include "semifer/video/smoother.h"

#include <algorithm>
#include <cmath>

#include "semifer/util/error.h"

namespace semifer::video {

void SmoothingOptions::validate() const {
  SEMIFER_CHECK(mode == "centered" || mode == "mean" || mode == "block" ||
                    mode == "ema" || mode == "none",
                "unknown smoothing mode '", mode,
                "' (known: centered, mean, block, ema, none)");
  SEMIFER_CHECK(window >= 1 && window <= 1000000,
                "the smoothing window must be 1..1000000 frames, got ", window);
  SEMIFER_CHECK(std::isfinite(window_ms) && window_ms >= 0 && window_ms <= 1e9,
                "the smoothing window in ms must be 0..1e9, got ", window_ms);
  SEMIFER_CHECK(window_ms == 0 || mode != "block",
                "block smoothing counts frames: give --smooth-window in "
                "frames");
  SEMIFER_CHECK(std::isfinite(ema_alpha) && ema_alpha > 0 && ema_alpha <= 1,
                "the EMA weight must be in (0, 1], got ", ema_alpha);
}

TrackSmoother::TrackSmoother(int num_classes, const SmoothingOptions& options)
    : num_classes_(num_classes), options_(options) {
  options_.validate();
  SEMIFER_CHECK(num_classes > 0, "smoothing needs at least one class");
  if (options_.mode == "mean") mode_ = eval::SmoothMode::kMean;
  if (options_.mode == "block") mode_ = eval::SmoothMode::kBlock;
  base_votes_.assign(num_classes, 0);
  base_mass_.assign(num_classes, 0.0);
}

void TrackSmoother::add(int64_t frame, double t_ms, const float* probs) {
  SEMIFER_CHECK(entries_.empty() || frame > entries_.back().frame,
                "smoothing: frame ", frame, " after frame ",
                entries_.back().frame);
  Entry e;
  e.frame = frame;
  e.t_ms = t_ms;
  e.probs.assign(probs, probs + num_classes_);
  if (online()) {
    if (options_.mode == "ema") {
      if (!has_ema_) {
        ema_ = e.probs;
        has_ema_ = true;
      } else {
        for (int c = 0; c < num_classes_; ++c)
          ema_[c] = options_.ema_alpha * e.probs[c] +
                    (1.0f - options_.ema_alpha) * ema_[c];
      }
      e.probs = ema_;
    }
    entries_.push_back(std::move(e));
    return;
  }
  const std::vector<int32_t>& votes =
      entries_.empty() ? base_votes_ : entries_.back().votes;
  const std::vector<double>& mass =
      entries_.empty() ? base_mass_ : entries_.back().mass;
  e.votes = votes;
  e.mass = mass;
  // The same additions, in the same order, as smooth_video's prefix sums:
  // the window sums below are bit-identical to its.
  const int best =
      static_cast<int>(std::max_element(probs, probs + num_classes_) - probs);
  e.votes[best] += 1;
  for (int c = 0; c < num_classes_; ++c) e.mass[c] += probs[c];
  entries_.push_back(std::move(e));
}

bool TrackSmoother::online() const {
  return options_.mode == "ema" || options_.mode == "none";
}

double TrackSmoother::key(const Entry& e) const {
  return options_.window_ms > 0 ? e.t_ms : static_cast<double>(e.frame);
}

TrackSmoother::Window TrackSmoother::window(const Entry& e) const {
  if (options_.window_ms > 0)
    return {e.t_ms - options_.window_ms / 2, e.t_ms + options_.window_ms / 2};
  const int64_t w = options_.window;
  if (mode_ == eval::SmoothMode::kBlock) {
    const int64_t lo = ((e.frame - 1) / w) * w + 1;
    return {static_cast<double>(lo), static_cast<double>(lo + w - 1)};
  }
  return {static_cast<double>(e.frame - (w - 1) / 2),
          static_cast<double>(e.frame + w / 2)};
}

bool TrackSmoother::closed(const Entry& e, int64_t frame, double t_ms) const {
  if (online()) return true;
  const double now = options_.window_ms > 0 ? t_ms : static_cast<double>(frame);
  return now >= window(e).hi;
}

Smoothed TrackSmoother::result(size_t index) const {
  const Entry& e = entries_[index];
  Smoothed s;
  s.frame = e.frame;
  if (online()) {
    s.probabilities = e.probs;
    s.label = static_cast<int>(
        std::max_element(e.probs.begin(), e.probs.end()) - e.probs.begin());
    return s;
  }
  const Window win = window(e);
  // First entry at or after lo, last at or before hi.
  size_t first = index, last = index;
  while (first > 0 && key(entries_[first - 1]) >= win.lo) --first;
  while (last + 1 < entries_.size() && key(entries_[last + 1]) <= win.hi)
    ++last;
  const std::vector<int32_t>& v0 =
      first == 0 ? base_votes_ : entries_[first - 1].votes;
  const std::vector<double>& m0 =
      first == 0 ? base_mass_ : entries_[first - 1].mass;
  std::vector<int32_t> votes(num_classes_);
  std::vector<double> mass(num_classes_);
  for (int c = 0; c < num_classes_; ++c) {
    votes[c] = entries_[last].votes[c] - v0[c];
    mass[c] = entries_[last].mass[c] - m0[c];
  }
  const int32_t count = static_cast<int32_t>(last - first + 1);
  s.label =
      eval::window_label(votes.data(), mass.data(), num_classes_, count, mode_);
  s.probabilities.resize(num_classes_);
  for (int c = 0; c < num_classes_; ++c)
    s.probabilities[c] = static_cast<float>(mass[c] / count);
  return s;
}

void TrackSmoother::drop_unneeded() {
  if (online()) {
    entries_.erase(entries_.begin(), entries_.begin() + next_);
    next_ = 0;
    return;
  }
  // Entries before the next result's window are summed into the base.
  const double lo =
      next_ < entries_.size() ? window(entries_[next_]).lo : 1e300;
  while (next_ > 0 && key(entries_.front()) < lo) {
    base_votes_ = entries_.front().votes;
    base_mass_ = entries_.front().mass;
    entries_.pop_front();
    --next_;
  }
}

void TrackSmoother::ready(int64_t frame, double t_ms,
                          std::vector<Smoothed>& out) {
  while (next_ < entries_.size() && closed(entries_[next_], frame, t_ms)) {
    out.push_back(result(next_));
    ++next_;
  }
  drop_unneeded();
}

void TrackSmoother::finish(std::vector<Smoothed>& out) {
  while (next_ < entries_.size()) {
    out.push_back(result(next_));
    ++next_;
  }
  drop_unneeded();
}

}  // namespace semifer::video
