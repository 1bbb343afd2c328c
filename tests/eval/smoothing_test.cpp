// Temporal smoothing (paper section 3.5) against hand-computed expectations.
#include "semifer/eval/smoothing.h"

#include <gtest/gtest.h>

#include <random>

#include "support/support.h"

namespace semifer::eval {

using test::expect_error;

namespace {

SmoothOptions opts(int window, SmoothMode mode = SmoothMode::kCentered) {
  SmoothOptions o;
  o.window = window;
  o.mode = mode;
  return o;
}

std::vector<int32_t> range(int32_t first, int32_t last) {
  std::vector<int32_t> v;
  for (int32_t f = first; f <= last; ++f) v.push_back(f);
  return v;
}

}  // namespace

TEST(Smoothing, WindowOfOneLeavesPredictionsUnchanged) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (SmoothMode mode :
       {SmoothMode::kCentered, SmoothMode::kBlock, SmoothMode::kMean}) {
    for (int window : {0, 1}) {
      const std::vector<int32_t> frames = {1, 2, 3, 5, 6, 9, 10};
      std::vector<float> probs(frames.size() * 4);
      for (auto& p : probs) p = u(rng);
      const auto out = smooth_video(frames, probs, 4, 10, opts(window, mode));
      ASSERT_EQ(out.size(), 10u);
      for (size_t i = 0; i < frames.size(); ++i) {
        const float* row = probs.data() + i * 4;
        const int argmax =
            static_cast<int>(std::max_element(row, row + 4) - row);
        EXPECT_EQ(out[frames[i] - 1], argmax)
            << smooth_mode_name(mode) << " frame " << frames[i];
      }
    }
  }
}

TEST(Smoothing, WindowOfOneFillsGapsFromTheNearestFrame) {
  // Frame 3 is equally far from 2 and 4: the earlier wins. Frame 6 (after
  // the last image) takes frame 5's label.
  const auto out = smooth_labels({1, 2, 4, 5}, {0, 1, 2, 3}, 4, 6, opts(1));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 1, 2, 3, 3}));
}

TEST(Smoothing, CenteredMajorityWithTiesToTheLowestClass) {
  // W = 3: frames f-1..f+1, clipped at the ends.
  //   f1 [1,2]: 2,1 tie -> 1    f2 [1,3]: 2,1,2 -> 2
  //   f3 [2,4]: 1,2,0 tie -> 0  f4 [3,5]: 2,0,0 -> 0   f5 [4,5]: 0,0 -> 0
  EXPECT_EQ(smooth_labels(range(1, 5), {2, 1, 2, 0, 0}, 3, 5, opts(3)),
            (std::vector<int>{1, 2, 0, 0, 0}));
}

TEST(Smoothing, EvenWindowReachesOneFrameFurtherAhead) {
  // W = 4: frames f-1..f+2.
  //   f1 [1,3]: 1,1,0 -> 1   f2 [1,4]: 1,1,0,0 tie -> 0   f3 [2,5] -> 0
  //   f4 [3,6] -> 0          f5 [4,6] -> 0                f6 [5,6]: 0,1 -> 0
  EXPECT_EQ(smooth_labels(range(1, 6), {1, 1, 0, 0, 0, 1}, 2, 6, opts(4)),
            (std::vector<int>{1, 0, 0, 0, 0, 0}));
  // The paper's W = 350 spans f-174..f+175: at the boundary of two halves
  // of 500 frames, frame 500 sees 175 + 175 votes (tie -> 0), frame 501
  // sees 174 + 176 (-> 1).
  std::vector<int> labels(1000, 0);
  std::fill(labels.begin() + 500, labels.end(), 1);
  const auto out = smooth_labels(range(1, 1000), labels, 2, 1000, opts(350));
  EXPECT_EQ(out[498], 0);
  EXPECT_EQ(out[499], 0);
  EXPECT_EQ(out[500], 1);
}

TEST(Smoothing, WindowsCountFramesNotListPositions) {
  // Frames 4..9 have no image. With W = 5, frame 10's window is 8..10 and
  // holds only itself (by list position it would reach back to 0,0,0).
  //   f1..f5 see frames 1..3 -> 0; f6 (window 4..8, empty) is nearest to
  //   frame 3 (3 vs 4 away) -> 0; f7 (5..9, empty) is nearest to frame 10
  //   -> 1; f8..f10 see frame 10 -> 1.
  EXPECT_EQ(smooth_labels({1, 2, 3, 10}, {0, 0, 0, 1}, 2, 10, opts(5)),
            (std::vector<int>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(Smoothing, VoteTiesGoToTheLargerProbabilityMass) {
  // One vote each for classes 0 and 1; class 1 has more probability mass.
  const std::vector<float> probs = {0.5f,  0.4f, 0.1f,  //
                                    0.05f, 0.9f, 0.05f};
  EXPECT_EQ(smooth_video({1, 2}, probs, 3, 2, opts(3)),
            (std::vector<int>{1, 1}));
  // With hard labels the masses tie too: the lowest class.
  EXPECT_EQ(smooth_labels({1, 2}, {0, 1}, 3, 2, opts(3)),
            (std::vector<int>{0, 0}));
}

TEST(Smoothing, BlocksStartAtFrameOneAndTheLastMayBeShort) {
  // W = 3: blocks 1..3 (0,1,1 -> 1), 4..6 (2,2,0 -> 2), 7 (1 -> 1).
  EXPECT_EQ(smooth_labels(range(1, 7), {0, 1, 1, 2, 2, 0, 1}, 3, 7,
                          opts(3, SmoothMode::kBlock)),
            (std::vector<int>{1, 1, 1, 2, 2, 2, 1}));
  // W = 2: block 3..4 has no image; frame 3 is nearest to frame 2, frame 4
  // is as far from 2 as from 6 and takes the earlier.
  EXPECT_EQ(
      smooth_labels({1, 2, 6}, {0, 0, 1}, 2, 6, opts(2, SmoothMode::kBlock)),
      (std::vector<int>{0, 0, 0, 0, 1, 1}));
}

TEST(Smoothing, MeanAveragesProbabilities) {
  const std::vector<float> probs = {0.6f, 0.4f,  //
                                    0.6f, 0.4f,  //
                                    0.0f, 1.0f};
  // f1 [1,2]: (1.2, 0.8) -> 0; f2 [1,3]: (1.2, 1.8) -> 1; f3 [2,3]:
  // (0.6, 1.4) -> 1. A majority vote says 0 at frame 2.
  EXPECT_EQ(smooth_video(range(1, 3), probs, 2, 3, opts(3, SmoothMode::kMean)),
            (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(smooth_video(range(1, 3), probs, 2, 3, opts(3)),
            (std::vector<int>{0, 0, 1}));
}

TEST(Smoothing, OneFrameAndWindowsLongerThanTheVideo) {
  for (SmoothMode mode :
       {SmoothMode::kCentered, SmoothMode::kBlock, SmoothMode::kMean}) {
    EXPECT_EQ(smooth_labels({1}, {3}, 8, 1, opts(350, mode)),
              (std::vector<int>{3}));
    // One image in a video of 6 frames labels every frame.
    EXPECT_EQ(smooth_labels({4}, {2}, 8, 6, opts(1, mode)),
              (std::vector<int>(6, 2)));
    // A window covering the whole video gives its overall majority.
    EXPECT_EQ(
        smooth_labels(range(1, 5), {0, 1, 1, 2, 1}, 3, 5, opts(350, mode)),
        (std::vector<int>(5, 1)));
  }
}

TEST(Smoothing, BadInputsAreErrors) {
  expect_error(
      [] {
        smooth_labels({2, 1}, {0, 0}, 2, 3, opts(3));
      },
      {"must increase"});
  expect_error(
      [] {
        smooth_labels({1, 4}, {0, 0}, 2, 3, opts(3));
      },
      {"frame 4", "outside 1..3"});
  expect_error([] { smooth_labels({}, {}, 2, 3, opts(3)); },
               {"at least one frame"});
  expect_error([] { smooth_labels({1}, {5}, 2, 3, opts(3)); }, {"label 5"});
  expect_error([] { smooth_labels({1}, {0}, 2, 3, opts(-1)); }, {">= 0"});
  expect_error([] { parse_smooth_mode("median"); },
               {"'median'", "centered, block, mean"});
  EXPECT_EQ(parse_smooth_mode("block"), SmoothMode::kBlock);
}

}  // namespace semifer::eval
