#include "semifer/video/detector.h"

#include <gtest/gtest.h>

#include "scene.h"
#include "support/support.h"

namespace semifer::test {

namespace {

video::Detection box(float x, float y, float w, float h, float score = 1) {
  video::Detection d;
  d.x = x;
  d.y = y;
  d.w = w;
  d.h = h;
  d.score = score;
  return d;
}

}  // namespace

TEST(SearchRegion, IsASquareAroundThePredictedFaceForSimilarSizes) {
  const video::SearchRegion r = video::search_region(box(100, 50, 80, 60));
  EXPECT_FLOAT_EQ(r.w, 160);
  EXPECT_FLOAT_EQ(r.h, 160);
  EXPECT_FLOAT_EQ(r.x + r.w / 2, 140);  // the box's centre
  EXPECT_FLOAT_EQ(r.y + r.h / 2, 80);
  EXPECT_FLOAT_EQ(r.min_side, 80 * 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(r.max_side, 120);
  EXPECT_FLOAT_EQ(video::search_region(box(0, 0, 50, 50), 3.0f).w, 150);
}

TEST(SearchRegion, KeepsFacesCentredInsideOfTheirSizeOnce) {
  const video::SearchRegion r = video::search_region(box(100, 100, 100, 100));
  const std::vector<video::Detection> faces = {
      box(110, 105, 100, 100, 2),  // inside
      box(112, 108, 98, 98, 5),    // the same face, a better score
      box(400, 100, 100, 100, 9),  // centre outside
      box(130, 130, 40, 40, 9),    // too small (side 40 < 66.7)
      box(60, 60, 180, 180, 9),    // too large (180 > 150)
  };
  const auto kept = video::keep_in_regions(faces, {r});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].score, 5);
  EXPECT_TRUE(video::keep_in_regions(faces, {}).empty());
}

// The OpenCV detectors search a region of a real frame for its face, and
// find nothing where there is none: UTKFace crops pasted into a scene.
TEST(SearchRegion, TheOpenCvDetectorsFindTheFaceInItsRegionOnly) {
  const std::vector<io::Image> faces = utkface_faces(2);
  if (faces.empty()) GTEST_SKIP() << "../shared/data/utkface is absent";
  Scene scene;
  scene.faces = faces;
  scene.frames = {{{0, 60, 80, 130}, {1, 400, 260, 150}}};
  const io::Image frame = scene.render(0);
  for (const auto& k : real_face_detectors()) {
    auto detector = video::create_detector(k);
    for (size_t f = 0; f < 2; ++f) {
      const video::Detection truth =
          scene.truth(scene.frames[0][f], kUtkFaceInner);
      // A prediction a few pixels off, as a tracker's is.
      video::Detection predicted = truth;
      predicted.x += 6;
      predicted.y -= 4;
      const auto found =
          detector->detect_in(frame, {video::search_region(predicted)});
      ASSERT_EQ(found.size(), 1u) << k.kind << " face " << f;
      EXPECT_GE(video::iou(found[0], truth), 0.5f) << k.kind << " face " << f;
      EXPECT_EQ(found[0].has_landmarks, k.kind == "yunet");
    }
    // Background only: the top right corner.
    EXPECT_TRUE(
        detector
            ->detect_in(frame, {video::search_region(box(480, 20, 120, 120))})
            .empty())
        << k.kind;
    EXPECT_TRUE(detector->detect_in(frame, {}).empty()) << k.kind;
  }
}

}  // namespace semifer::test
