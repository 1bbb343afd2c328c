#include "semifer/video/tracker.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace semifer::test {

namespace {

video::Detection box(float x, float y, float side = 60) {
  video::Detection d;
  d.x = x;
  d.y = y;
  d.w = side;
  d.h = side;
  d.score = 1;
  return d;
}

}  // namespace

TEST(IouTracker, KeepsAnIdThroughAThreeFrameGapAndGivesNewFacesNewIds) {
  video::IouTracker tracker;  // max_missed 10
  std::vector<int64_t> ids;
  for (int f = 0; f < 10; ++f) {
    ids = tracker.update({box(100.0f + 4 * f, 50)});
    ASSERT_EQ(ids, std::vector<int64_t>{0});
  }
  for (int f = 10; f < 13; ++f) {  // the face is missed for 3 frames
    ids = tracker.update({});
    EXPECT_TRUE(ids.empty());
    ASSERT_EQ(tracker.tracks().size(), 1u);
    EXPECT_EQ(tracker.tracks()[0].missed, f - 9);
  }
  // It reappears where its motion took it, beside a new face.
  ids = tracker.update({box(400, 300), box(100.0f + 4 * 13, 50)});
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 0}));
}

TEST(IouTracker, EndsATrackAfterMaxMissedFrames) {
  video::TrackerOptions o;
  o.max_missed = 2;
  video::IouTracker tracker(o);
  tracker.update({box(10, 10)});
  tracker.update({});
  tracker.update({});
  EXPECT_TRUE(tracker.ended().empty());
  tracker.update({});
  EXPECT_EQ(tracker.ended(), std::vector<int64_t>{0});
  EXPECT_TRUE(tracker.tracks().empty());
  EXPECT_EQ(tracker.update({box(10, 10)}), std::vector<int64_t>{1});
}

TEST(IouTracker, TwoFacesThatCrossKeepTheirIds) {
  video::IouTracker tracker;
  // Face 0 moves right, face 1 left, 10 px a frame, passing each other
  // with half their height apart.
  for (int f = 0; f < 40; ++f) {
    const float a = 50.0f + 10 * f, b = 450.0f - 10 * f;
    // Detection order varies, as a detector's score order does.
    std::vector<video::Detection> dets = {box(a, 100), box(b, 130)};
    if (f % 2) std::swap(dets[0], dets[1]);
    const std::vector<int64_t> ids = tracker.update(dets);
    const int64_t id_a = f % 2 ? ids[1] : ids[0];
    const int64_t id_b = f % 2 ? ids[0] : ids[1];
    ASSERT_EQ(id_a, 0) << "frame " << f;
    ASSERT_EQ(id_b, 1) << "frame " << f;
  }
}

TEST(IouTracker, RefusesBadOptions) {
  video::TrackerOptions o;
  o.min_iou = 0;
  expect_error([&] { video::IouTracker t(o); }, {"tracker IoU"});
  o = {};
  o.max_missed = -1;
  expect_error([&] { video::IouTracker t(o); }, {"max missed"});
}

TEST(Iou, OfBoxes) {
  EXPECT_FLOAT_EQ(video::iou(box(0, 0, 10), box(0, 0, 10)), 1.0f);
  EXPECT_FLOAT_EQ(video::iou(box(0, 0, 10), box(5, 0, 10)), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(video::iou(box(0, 0, 10), box(20, 0, 10)), 0.0f);
}

}  // namespace semifer::test
