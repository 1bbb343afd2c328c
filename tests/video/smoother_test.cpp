#include "semifer/video/smoother.h"

#include <gtest/gtest.h>

#include <random>

#include "semifer/eval/smoothing.h"
#include "support/support.h"

namespace semifer::test {

namespace {

// Frames 1..n with gaps (a track missed now and then), random
// probabilities peaked on a class that changes slowly, so windows hold
// real majorities and ties.
struct Track {
  std::vector<int32_t> frames;
  std::vector<float> probs;
};

Track random_track(int n, int classes, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Track t;
  int current = 0;
  for (int f = 1; f <= n; ++f) {
    if (u(gen) < 0.2f) continue;  // missed frame
    if (u(gen) < 0.1f) current = static_cast<int>(gen() % classes);
    std::vector<float> row(classes);
    float sum = 0;
    for (int c = 0; c < classes; ++c) {
      row[c] = u(gen) + (c == current ? 1.0f : 0.0f);
      sum += row[c];
    }
    for (float& v : row) v /= sum;
    t.frames.push_back(f);
    t.probs.insert(t.probs.end(), row.begin(), row.end());
  }
  return t;
}

// Streams `t` through a TrackSmoother, calling ready() after every frame
// number as the pipeline does (also for frames the track was missed in).
std::vector<video::Smoothed> stream(const Track& t, int classes,
                                    const video::SmoothingOptions& o,
                                    double ms_per_frame = 40.0) {
  video::TrackSmoother s(classes, o);
  std::vector<video::Smoothed> out;
  size_t next = 0;
  const int32_t last = t.frames.back();
  for (int32_t f = 1; f <= last; ++f) {
    if (next < t.frames.size() && t.frames[next] == f) {
      s.add(f, (f - 1) * ms_per_frame, t.probs.data() + next * classes);
      ++next;
    }
    s.ready(f, (f - 1) * ms_per_frame, out);
  }
  s.finish(out);
  return out;
}

}  // namespace

TEST(TrackSmoother, StreamingGivesEvalsLabelsForEveryModeAndWindow) {
  const int classes = 7;
  for (const std::string mode : {"centered", "mean", "block"}) {
    for (int window : {1, 2, 5, 8, 35, 350}) {
      const Track t = random_track(400, classes, 11u + window);
      video::SmoothingOptions o;
      o.mode = mode;
      o.window = window;
      const std::vector<video::Smoothed> got = stream(t, classes, o);
      eval::SmoothOptions e;
      e.window = window;
      e.mode = eval::parse_smooth_mode(mode);
      const std::vector<int> want =
          eval::smooth_video(t.frames, t.probs, classes, t.frames.back(), e);
      ASSERT_EQ(got.size(), t.frames.size()) << mode << " " << window;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].frame, t.frames[i]);
        EXPECT_EQ(got[i].label, want[t.frames[i] - 1])
            << mode << " window " << window << " frame " << t.frames[i];
      }
    }
  }
}

TEST(TrackSmoother, ResultsComeOnceTheirWindowHasPassed) {
  video::SmoothingOptions o;
  o.window = 5;  // two frames before, two after
  video::TrackSmoother s(2, o);
  std::vector<video::Smoothed> out;
  const float p[2] = {0.9f, 0.1f};
  for (int f = 1; f <= 4; ++f) {
    s.add(f, 0, p);
    s.ready(f, 0, out);
  }
  // Frames 1 and 2 have seen their windows' last frames (3 and 4).
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].frame, 1);
  EXPECT_EQ(out[1].frame, 2);
  s.ready(5, 0, out);  // frame 5 passed without this track: 3 is final
  EXPECT_EQ(out.size(), 3u);
  s.finish(out);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_FLOAT_EQ(out[3].probabilities[0], 0.9f);
}

TEST(TrackSmoother, MillisecondWindowsMatchFramesAtAConstantRate) {
  const int classes = 4;
  const Track t = random_track(300, classes, 5);
  video::SmoothingOptions frames, ms;
  frames.window = 9;  // 4 frames each side
  ms.window_ms = 8 * 40.0;
  const auto a = stream(t, classes, frames, 40.0);
  const auto b = stream(t, classes, ms, 40.0);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].label, b[i].label);
}

TEST(TrackSmoother, EmaIsTheRunningAverageAndImmediate) {
  video::SmoothingOptions o;
  o.mode = "ema";
  o.ema_alpha = 0.5f;
  video::TrackSmoother s(2, o);
  std::vector<video::Smoothed> out;
  const float a[2] = {1.0f, 0.0f}, b[2] = {0.0f, 1.0f};
  s.add(1, 0, a);
  s.ready(1, 0, out);
  s.add(2, 40, b);
  s.ready(2, 40, out);
  s.add(3, 80, b);
  s.ready(3, 80, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FLOAT_EQ(out[1].probabilities[0], 0.5f);
  EXPECT_FLOAT_EQ(out[2].probabilities[0], 0.25f);
  EXPECT_EQ(out[0].label, 0);
  EXPECT_EQ(out[2].label, 1);
}

TEST(TrackSmoother, RefusesBadOptionsAndFramesOutOfOrder) {
  video::SmoothingOptions o;
  o.mode = "median";
  expect_error([&] { o.validate(); }, {"unknown smoothing mode 'median'"});
  o = {};
  o.window = 0;
  expect_error([&] { o.validate(); }, {"1..1000000 frames"});
  o = {};
  o.mode = "block";
  o.window_ms = 100;
  expect_error([&] { o.validate(); }, {"block smoothing counts frames"});
  video::TrackSmoother s(2, {});
  const float p[2] = {0.5f, 0.5f};
  s.add(3, 0, p);
  expect_error([&] { s.add(3, 0, p); }, {"frame 3 after frame 3"});
}

}  // namespace semifer::test
