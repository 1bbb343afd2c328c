#include "semifer/video/face_crop.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/support.h"

namespace semifer::test {

namespace {

// A frame whose pixel (x, y) encodes its position: R = x, G = y.
io::Image coordinate_frame(int w, int h) {
  io::Image im(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      im.pixel(x, y)[0] = static_cast<uint8_t>(x);
      im.pixel(x, y)[1] = static_cast<uint8_t>(y);
    }
  return im;
}

}  // namespace

TEST(CropFace, TakesTheSquareBoxWithMarginAroundItsCentre) {
  const io::Image frame = coordinate_frame(250, 250);
  video::Detection d;
  d.x = 100;
  d.y = 80;
  d.w = 40;  // centre (120, 95); with 25% margin a 60-pixel square
  d.h = 30;
  video::CropOptions o;
  o.margin = 0.25f;
  const io::Image crop = video::crop_face(frame, d, o, 60);
  ASSERT_EQ(crop.width, 60);
  ASSERT_EQ(crop.height, 60);
  // One output pixel per frame pixel: the crop's (0, 0) is (90, 65).
  EXPECT_NEAR(crop.pixel(0, 0)[0], 90, 1);
  EXPECT_NEAR(crop.pixel(0, 0)[1], 65, 1);
  EXPECT_NEAR(crop.pixel(30, 30)[0], 120, 1);
  EXPECT_NEAR(crop.pixel(30, 30)[1], 95, 1);
  EXPECT_EQ(video::crop_side(d, o, 48), 60);
  EXPECT_EQ(video::crop_side(d, o, 100), 100);  // never below the input
}

TEST(CropFace, AlignsLandmarksOntoTheTemplate) {
  const io::Image frame = coordinate_frame(250, 250);
  // Landmarks: the template scaled by 100 px, rotated 30 degrees and moved.
  video::CropOptions o;
  const double angle = 30.0 * M_PI / 180.0;
  video::Detection d;
  d.has_landmarks = true;
  d.w = d.h = 100;
  for (int i = 0; i < 5; ++i) {
    const double tx = o.face_template.points[i].x * 100 - 50;
    const double ty = o.face_template.points[i].y * 100 - 50;
    d.landmarks[i].x =
        static_cast<float>(125 + tx * std::cos(angle) - ty * std::sin(angle));
    d.landmarks[i].y =
        static_cast<float>(125 + tx * std::sin(angle) + ty * std::cos(angle));
  }
  const io::Image crop = video::crop_face(frame, d, o, 100);
  // Each landmark's frame position shows at its template position.
  for (int i = 0; i < 5; ++i) {
    const int cx =
        static_cast<int>(std::lround(o.face_template.points[i].x * 100));
    const int cy =
        static_cast<int>(std::lround(o.face_template.points[i].y * 100));
    EXPECT_NEAR(crop.pixel(cx, cy)[0], d.landmarks[i].x, 1.5) << i;
    EXPECT_NEAR(crop.pixel(cx, cy)[1], d.landmarks[i].y, 1.5) << i;
  }
  // Without alignment the same face is cropped upright.
  o.align = false;
  d.x = 75;
  d.y = 75;
  const io::Image upright = video::crop_face(frame, d, o, 100);
  EXPECT_LT(upright.pixel(0, 50)[1], upright.pixel(0, 99)[1]);
  EXPECT_EQ(upright.pixel(0, 50)[0], upright.pixel(0, 60)[0]);
}

TEST(CropFace, RepeatsTheBorderOutsideTheFrameAndRefusesBadSizes) {
  const io::Image frame = coordinate_frame(50, 50);
  video::Detection d;
  d.x = -20;
  d.y = -20;
  d.w = d.h = 40;
  const io::Image crop = video::crop_face(frame, d, {}, 44);
  EXPECT_EQ(crop.pixel(0, 0)[0], 0);
  EXPECT_EQ(crop.pixel(0, 0)[1], 0);
  expect_error([&] { video::crop_face(frame, d, {}, 0); }, {"crop side"});
  video::CropOptions o;
  o.margin = -1;
  expect_error([&] { o.validate(); }, {"crop margin"});
}

}  // namespace semifer::test
