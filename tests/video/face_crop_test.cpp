#include "semifer/video/face_crop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

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

namespace {

// Finds the same five landmarks, in canvas pixels, in every image but the
// ones whose first pixel is 255 (no face there).
class FixedLandmarks : public video::FaceDetector {
 public:
  std::vector<video::Detection> detect(const io::Image& frame) override {
    canvases.push_back({frame.width, frame.height});
    video::Detection d;
    d.has_landmarks = true;
    d.score = 0.9f;
    for (int i = 0; i < 5; ++i) d.landmarks[i] = {120.0f + 10 * i, 140.0f};
    video::Detection weaker = d;
    weaker.score = 0.5f;
    for (auto& p : weaker.landmarks) p = {0, 0};
    video::Detection no_marks;
    no_marks.score = 0.99f;
    const uint8_t centre = frame.pixel(frame.width / 2, frame.height / 2)[0];
    if (centre == 255) return {no_marks};
    return {no_marks, weaker, d};
  }
  std::string name() const override { return "fixed"; }
  std::vector<std::pair<int, int>> canvases;
};

io::Image filled(int w, int h, uint8_t value) {
  io::Image im(w, h);
  std::fill(im.data.begin(), im.data.end(), value);
  return im;
}

}  // namespace

TEST(FaceTemplate, FitsTheMeanLandmarksInFractionsOfEachImage) {
  // A 48x48 image is drawn 160x160 at (80, 80) of the 320x320 canvas, a
  // 100x50 one 160x80 at (80, 120): canvas point (120 + 10i, 140) is
  // (0.25 + i/16, 0.375) of the first and (0.25 + i/16, 0.25) of the
  // second. The detector's most confident detection with landmarks counts.
  FixedLandmarks detector;
  const auto fit = video::fit_face_template(
      detector, {filled(48, 48, 0), filled(100, 50, 0), filled(30, 30, 255)});
  EXPECT_EQ(fit.images, 3);
  EXPECT_EQ(fit.found, 2);
  ASSERT_EQ(detector.canvases.size(), 3u);
  EXPECT_EQ(detector.canvases[1], std::make_pair(320, 320));
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(fit.face_template.points[i].x, 0.25 + i / 16.0, 1e-5) << i;
    EXPECT_NEAR(fit.face_template.points[i].y, (0.375 + 0.25) / 2, 1e-5) << i;
  }
  FixedLandmarks none;
  expect_error(
      [&] { video::fit_face_template(none, {filled(40, 40, 255)}); },
      {"no face with landmarks found in any of the 1 images", "fixed"});
}

TEST(FaceTemplate, ParsesWhatItPrintsAndRefusesOtherText) {
  video::FaceTemplate t;
  t.points[2] = {0.5f, 0.61234f};
  const std::string text = video::format_face_template(t);
  EXPECT_EQ(text.substr(0, 14), "0.3253,0.3875,");
  const video::FaceTemplate back = video::parse_face_template(text);
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(back.points[i].x, t.points[i].x, 1e-4) << i;
    EXPECT_NEAR(back.points[i].y, t.points[i].y, 1e-4) << i;
  }
  expect_error([] { video::parse_face_template("0.3,0.4"); },
               {"face template '0.3,0.4' has 2 numbers; it needs 10"});
  expect_error(
      [] {
        video::parse_face_template("0.3,0.4,0.6,0.4,0.5,x,0.3,0.7,0.6,0.7");
      },
      {"'x' is not a number in [0, 1]"});
  expect_error(
      [] {
        video::parse_face_template("0.3,0.4,0.6,0.4,0.5,1.5,0.3,0.7,0.6,0.7");
      },
      {"'1.5' is not a number in [0, 1]"});
}

TEST(FaceTemplate, TheDefaultIsFer2013sGeometry) {
  const std::string shared = shared_data_dir();
  const std::string model =
      std::string(SEMIFER_SOURCE_DIR) + "/../shared/models/yunet_2022.onnx";
  if (shared.empty() || !std::filesystem::exists(model))
    GTEST_SKIP() << "needs ../shared/data/fer2013 and ../shared/models";
  // Every 97th crop of one class folder per class.
  std::vector<io::Image> crops;
  for (const auto& cls :
       std::filesystem::directory_iterator(shared + "/fer2013/train")) {
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(cls.path()))
      files.push_back(f.path().string());
    std::sort(files.begin(), files.end());
    for (size_t i = 0; i < files.size() && i < 97 * 12; i += 97)
      crops.push_back(io::read_image(files[i]));
  }
  video::DetectorOptions o;
  o.kind = "yunet";
  o.model = model;
  const auto detector = video::create_detector(o);
  const auto fit = video::fit_face_template(*detector, crops);
  EXPECT_GE(fit.found, fit.images * 9 / 10);
  const video::FaceTemplate default_template;
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(fit.face_template.points[i].x, default_template.points[i].x,
                0.02)
        << i;
    EXPECT_NEAR(fit.face_template.points[i].y, default_template.points[i].y,
                0.02)
        << i;
  }
}

}  // namespace semifer::test
