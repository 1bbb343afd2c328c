#include "semifer/eval/smoothing.h"

#include <algorithm>

#include "semifer/util/error.h"

namespace semifer::eval {

const char* smooth_mode_name(SmoothMode mode) {
  switch (mode) {
    case SmoothMode::kCentered:
      return "centered";
    case SmoothMode::kBlock:
      return "block";
    case SmoothMode::kMean:
      return "mean";
  }
  return "?";
}

SmoothMode parse_smooth_mode(const std::string& name) {
  for (SmoothMode m :
       {SmoothMode::kCentered, SmoothMode::kBlock, SmoothMode::kMean}) {
    if (name == smooth_mode_name(m)) return m;
  }
  fail("unknown smoothing mode '", name, "' (known: centered, block, mean)");
}

void SmoothOptions::validate() const {
  SEMIFER_CHECK(window >= 0, "the smoothing window must be >= 0 frames, got ",
                window);
}

int window_label(const int32_t* votes, const double* mass, int num_classes,
                 int32_t frames, SmoothMode mode) {
  if (frames <= 0) return -1;
  int best = 0;
  int32_t best_votes = -1;
  double best_mass = -1.0;
  for (int c = 0; c < num_classes; ++c) {
    const bool better =
        mode == SmoothMode::kMean
            ? mass[c] > best_mass
            : votes[c] > best_votes ||
                  (votes[c] == best_votes && mass[c] > best_mass);
    if (better) {
      best = c;
      best_votes = votes[c];
      best_mass = mass[c];
    }
  }
  return best;
}

std::vector<int> smooth_video(const std::vector<int32_t>& frames,
                              const std::vector<float>& probs, int num_classes,
                              int32_t length, const SmoothOptions& options) {
  options.validate();
  SEMIFER_CHECK(num_classes > 0, "smoothing needs at least one class");
  SEMIFER_CHECK(!frames.empty(),
                "smoothing: a video needs at least one frame with a "
                "prediction");
  SEMIFER_CHECK(probs.size() == frames.size() * num_classes,
                "smoothing: ", frames.size(), " frames but ", probs.size(),
                " probabilities for ", num_classes, " classes");
  for (size_t i = 0; i < frames.size(); ++i) {
    SEMIFER_CHECK(frames[i] >= 1 && frames[i] <= length, "smoothing: frame ",
                  frames[i], " is outside 1..", length);
    SEMIFER_CHECK(i == 0 || frames[i] > frames[i - 1],
                  "smoothing: frame numbers must increase, got ", frames[i - 1],
                  " then ", frames[i]);
  }
  const size_t n = static_cast<size_t>(length);
  const size_t c_count = static_cast<size_t>(num_classes);
  const int64_t w = std::max(1, options.window);

  // Prefix sums over frames 0..n (row f: frames 1..f) of the votes, the
  // probability mass and the count of frames with a prediction, so that
  // any window costs O(classes) whatever its width.
  std::vector<int32_t> votes((n + 1) * c_count, 0);
  std::vector<double> mass((n + 1) * c_count, 0.0);
  std::vector<int32_t> present(n + 1, 0);
  for (size_t i = 0; i < frames.size(); ++i) {
    const float* row = probs.data() + i * c_count;
    const size_t best = static_cast<size_t>(
        std::max_element(row, row + c_count) - row);  // first maximum
    const size_t f = static_cast<size_t>(frames[i]);
    votes[f * c_count + best] = 1;
    for (size_t c = 0; c < c_count; ++c) mass[f * c_count + c] = row[c];
    present[f] = 1;
  }
  for (size_t f = 1; f <= n; ++f) {
    present[f] += present[f - 1];
    for (size_t c = 0; c < c_count; ++c) {
      votes[f * c_count + c] += votes[(f - 1) * c_count + c];
      mass[f * c_count + c] += mass[(f - 1) * c_count + c];
    }
  }
  // The label of frames lo..hi (1-based, inclusive), or -1 when none of
  // them has a prediction.
  std::vector<int32_t> window_votes(c_count);
  std::vector<double> window_mass(c_count);
  auto decide = [&](size_t lo, size_t hi) -> int {
    for (size_t c = 0; c < c_count; ++c) {
      window_votes[c] = votes[hi * c_count + c] - votes[(lo - 1) * c_count + c];
      window_mass[c] = mass[hi * c_count + c] - mass[(lo - 1) * c_count + c];
    }
    return window_label(window_votes.data(), window_mass.data(), num_classes,
                        present[hi] - present[lo - 1], options.mode);
  };

  std::vector<int> out(n, -1);
  if (options.mode == SmoothMode::kBlock) {
    for (size_t lo = 1; lo <= n; lo += static_cast<size_t>(w)) {
      const size_t hi = std::min(n, lo + static_cast<size_t>(w) - 1);
      const int label = decide(lo, hi);
      for (size_t f = lo; f <= hi; ++f) out[f - 1] = label;
    }
  } else {
    const int64_t before = (w - 1) / 2, after = w / 2;
    for (int64_t f = 1; f <= static_cast<int64_t>(n); ++f) {
      const int64_t lo = std::max<int64_t>(1, f - before);
      const int64_t hi = std::min<int64_t>(static_cast<int64_t>(n), f + after);
      out[f - 1] = decide(static_cast<size_t>(lo), static_cast<size_t>(hi));
    }
  }
  // Frames whose window held no prediction take the label of the nearest
  // frame that has one; that frame's own window always holds a prediction.
  size_t next = 0;  // first entry of `frames` at or after f
  for (size_t f = 1; f <= n; ++f) {
    while (next < frames.size() && static_cast<size_t>(frames[next]) < f)
      ++next;
    if (out[f - 1] >= 0) continue;
    size_t nearest;
    if (next == frames.size()) {
      nearest = static_cast<size_t>(frames.back());
    } else if (next == 0) {
      nearest = static_cast<size_t>(frames.front());
    } else {
      const size_t a = static_cast<size_t>(frames[next - 1]);
      const size_t b = static_cast<size_t>(frames[next]);
      nearest = f - a <= b - f ? a : b;
    }
    out[f - 1] = out[nearest - 1];
  }
  return out;
}

std::vector<int> smooth_labels(const std::vector<int32_t>& frames,
                               const std::vector<int>& labels, int num_classes,
                               int32_t length, const SmoothOptions& options) {
  SEMIFER_CHECK(labels.size() == frames.size(), "smoothing: ", frames.size(),
                " frames but ", labels.size(), " labels");
  SEMIFER_CHECK(num_classes > 0, "smoothing needs at least one class");
  std::vector<float> probs(labels.size() * static_cast<size_t>(num_classes),
                           0.0f);
  for (size_t i = 0; i < labels.size(); ++i) {
    SEMIFER_CHECK(labels[i] >= 0 && labels[i] < num_classes,
                  "smoothing: label ", labels[i], " is outside 0..",
                  num_classes - 1);
    probs[i * static_cast<size_t>(num_classes) + labels[i]] = 1.0f;
  }
  return smooth_video(frames, probs, num_classes, length, options);
}

}  // namespace semifer::eval
