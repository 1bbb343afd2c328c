#include "semifer/video/face_crop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::video {

void CropOptions::validate() const {
  SEMIFER_CHECK(std::isfinite(margin) && margin >= 0 && margin <= 2,
                "crop margin must be in 0..2 (of the box side), got ", margin);
  for (const Point& p : face_template.points)
    SEMIFER_CHECK(std::isfinite(p.x) && std::isfinite(p.y) && p.x >= 0 &&
                      p.x <= 1 && p.y >= 0 && p.y <= 1,
                  "face template points must lie in [0, 1], got (", p.x, ", ",
                  p.y, ")");
}

int crop_side(const Detection& face, const CropOptions& options, int min_side) {
  const float side = std::max(face.w, face.h) * (1.0f + 2.0f * options.margin);
  const float clamped = std::clamp(side, static_cast<float>(min_side),
                                   static_cast<float>(4 * min_side));
  return static_cast<int>(std::lround(clamped));
}

namespace {

// The similarity transform (scale, rotation, shift) that maps `from` onto
// `to` with the least squared error: [a -b tx; b a ty].
cv::Mat similarity(const std::array<Point, 5>& from,
                   const std::array<Point, 5>& to) {
  cv::Mat A(10, 4, CV_64F), rhs(10, 1, CV_64F);
  for (int i = 0; i < 5; ++i) {
    const double x = from[i].x, y = from[i].y;
    double* r0 = A.ptr<double>(2 * i);
    double* r1 = A.ptr<double>(2 * i + 1);
    r0[0] = x, r0[1] = -y, r0[2] = 1, r0[3] = 0;
    r1[0] = y, r1[1] = x, r1[2] = 0, r1[3] = 1;
    rhs.at<double>(2 * i) = to[i].x;
    rhs.at<double>(2 * i + 1) = to[i].y;
  }
  cv::Mat p;
  cv::solve(A, rhs, p, cv::DECOMP_SVD);
  const double a = p.at<double>(0), b = p.at<double>(1);
  cv::Mat m =
      (cv::Mat_<double>(2, 3) << a, -b, p.at<double>(2), b, a, p.at<double>(3));
  return m;
}

}  // namespace

io::Image crop_face(const io::Image& frame, const Detection& face,
                    const CropOptions& options, int side) {
  SEMIFER_CHECK(side > 0 && side <= 4096, "crop side must be in 1..4096, got ",
                side);
  SEMIFER_CHECK(!frame.empty(), "cannot crop a face out of an empty frame");
  cv::Mat m;
  bool landmarks_ok = face.has_landmarks;
  for (const Point& p : face.landmarks)
    landmarks_ok = landmarks_ok && std::isfinite(p.x) && std::isfinite(p.y);
  if (options.align && landmarks_ok) {
    std::array<Point, 5> to;
    for (int i = 0; i < 5; ++i)
      to[i] = {options.face_template.points[i].x * side,
               options.face_template.points[i].y * side};
    m = similarity(face.landmarks, to);
  }
  if (m.empty() || !cv::checkRange(m)) {
    const double box = std::max(face.w, face.h) * (1.0 + 2.0 * options.margin);
    const double scale = box > 0 ? side / box : 1.0;
    const double cx = face.x + face.w / 2.0, cy = face.y + face.h / 2.0;
    m = (cv::Mat_<double>(2, 3) << scale, 0, side / 2.0 - scale * cx, 0, scale,
         side / 2.0 - scale * cy);
  }
  const cv::Mat src(frame.height, frame.width, CV_8UC3,
                    const_cast<uint8_t*>(frame.data.data()));
  io::Image out(side, side);
  cv::Mat dst(side, side, CV_8UC3, out.data.data());
  cv::warpAffine(src, dst, m, dst.size(), cv::INTER_LINEAR,
                 cv::BORDER_REPLICATE);
  return out;
}

FaceTemplate parse_face_template(const std::string& text) {
  std::vector<double> v;
  for (std::string_view field : util::split(text, ',')) {
    const auto x = util::parse_double(util::trim(field));
    SEMIFER_CHECK(x && *x >= 0 && *x <= 1, "face template '", text, "': '",
                  field, "' is not a number in [0, 1]");
    v.push_back(*x);
  }
  SEMIFER_CHECK(v.size() == 10, "face template '", text, "' has ", v.size(),
                " numbers; it needs 10 (x,y of right eye, left eye, nose "
                "tip, right and left mouth corners)");
  FaceTemplate t;
  for (int i = 0; i < 5; ++i)
    t.points[i] = {static_cast<float>(v[2 * i]),
                   static_cast<float>(v[2 * i + 1])};
  return t;
}

std::string format_face_template(const FaceTemplate& t) {
  std::string out;
  char buf[32];
  for (const Point& p : t.points) {
    std::snprintf(buf, sizeof buf, "%s%.4f,%.4f", out.empty() ? "" : ",", p.x,
                  p.y);
    out += buf;
  }
  return out;
}

TemplateFit fit_face_template(FaceDetector& detector,
                              const std::vector<io::Image>& images) {
  constexpr int kSide = 160;  // the image's longer side on the canvas
  constexpr int kCanvas = 2 * kSide;
  TemplateFit fit;
  std::array<double, 10> sum{};
  for (const io::Image& image : images) {
    ++fit.images;
    if (image.empty()) continue;
    const double scale =
        static_cast<double>(kSide) / std::max(image.width, image.height);
    const int w =
        std::max(1, static_cast<int>(std::lround(image.width * scale)));
    const int h =
        std::max(1, static_cast<int>(std::lround(image.height * scale)));
    const cv::Mat src(image.height, image.width, CV_8UC3,
                      const_cast<uint8_t*>(image.data.data()));
    io::Image canvas(kCanvas, kCanvas);
    cv::Mat dst(kCanvas, kCanvas, CV_8UC3, canvas.data.data());
    dst.setTo(cv::Scalar(128, 128, 128));
    const int x0 = (kCanvas - w) / 2, y0 = (kCanvas - h) / 2;
    cv::resize(src, dst(cv::Rect(x0, y0, w, h)), cv::Size(w, h), 0, 0,
               scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    const Detection* best = nullptr;
    const std::vector<Detection> found = detector.detect(canvas);
    for (const Detection& d : found)
      if (d.has_landmarks && (!best || d.score > best->score)) best = &d;
    if (!best) continue;
    ++fit.found;
    for (int i = 0; i < 5; ++i) {
      sum[2 * i] += (best->landmarks[i].x - x0) / w;
      sum[2 * i + 1] += (best->landmarks[i].y - y0) / h;
    }
  }
  SEMIFER_CHECK(fit.found > 0, "no face with landmarks found in any of the ",
                fit.images, " images (the ", detector.name(),
                " detector; landmarks need yunet)");
  for (int i = 0; i < 5; ++i)
    fit.face_template.points[i] = {
        static_cast<float>(std::clamp(sum[2 * i] / fit.found, 0.0, 1.0)),
        static_cast<float>(std::clamp(sum[2 * i + 1] / fit.found, 0.0, 1.0))};
  return fit;
}

}  // namespace semifer::video
