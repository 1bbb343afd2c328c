#include "semifer/video/detector.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::video {

float iou(const Detection& a, const Detection& b) {
  const float x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.x + a.w, b.x + b.w);
  const float y1 = std::min(a.y + a.h, b.y + b.h);
  const float inter = std::max(0.0f, x1 - x0) * std::max(0.0f, y1 - y0);
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

namespace {

void sort_by_score(std::vector<Detection>& faces) {
  std::stable_sort(
      faces.begin(), faces.end(),
      [](const Detection& a, const Detection& b) { return a.score > b.score; });
}

}  // namespace

SearchRegion search_region(const Detection& predicted, float scale) {
  const float side = std::max(predicted.w, predicted.h);
  const float cx = predicted.x + predicted.w / 2;
  const float cy = predicted.y + predicted.h / 2;
  SearchRegion r;
  r.w = r.h = scale * side;
  r.x = cx - r.w / 2;
  r.y = cy - r.h / 2;
  r.min_side = side * (2.0f / 3.0f);
  r.max_side = side * 1.5f;
  return r;
}

std::vector<Detection> keep_in_regions(
    std::vector<Detection> faces, const std::vector<SearchRegion>& regions) {
  sort_by_score(faces);
  std::vector<Detection> kept;
  for (const Detection& f : faces) {
    const float cx = f.x + f.w / 2, cy = f.y + f.h / 2;
    const float side = (f.w + f.h) / 2;
    const bool inside =
        std::any_of(regions.begin(), regions.end(), [&](const SearchRegion& r) {
          return cx >= r.x && cx < r.x + r.w && cy >= r.y && cy < r.y + r.h &&
                 side >= r.min_side && side <= r.max_side;
        });
    if (!inside) continue;
    const bool repeated =
        std::any_of(kept.begin(), kept.end(),
                    [&](const Detection& k) { return iou(k, f) >= 0.5f; });
    if (!repeated) kept.push_back(f);
  }
  return kept;
}

std::vector<Detection> FaceDetector::detect_in(
    const io::Image& frame, const std::vector<SearchRegion>& regions) {
  std::vector<Detection> all = detect(frame);
  if (regions.empty()) return {};
  return keep_in_regions(std::move(all), regions);
}

int detection_threads() { return cv::getNumThreads(); }

const std::vector<std::string>& detector_names() {
  static const std::vector<std::string> names = {"haar", "lbp", "yunet"};
  return names;
}

void DetectorOptions::validate() const {
  const auto& names = detector_names();
  SEMIFER_CHECK(std::find(names.begin(), names.end(), kind) != names.end(),
                "unknown face detector '", kind, "' (known: haar, lbp, yunet)");
  SEMIFER_CHECK(kind != "yunet" || !model.empty(),
                "the yunet detector needs its ONNX model file "
                "(--detector-model FILE)");
  SEMIFER_CHECK(
      detect_width == 0 || (detect_width >= 32 && detect_width <= 16384),
      "detect width must be 0 or 32..16384 pixels, got ", detect_width);
  SEMIFER_CHECK(std::isfinite(min_face) && min_face > 0 && min_face <= 1,
                "minimum face size must be in (0, 1] of the frame, got ",
                min_face);
  SEMIFER_CHECK(
      std::isfinite(scale_step) && scale_step >= 1.01f && scale_step <= 2.0f,
      "the cascade scale step must be in 1.01..2, got ", scale_step);
  SEMIFER_CHECK(std::isfinite(min_score) && min_score >= 0,
                "minimum detector score must be >= 0, got ", min_score);
}

std::string cascade_folder() {
  for (const char* dir : {"/usr/share/opencv4", "/usr/local/share/opencv4",
                          "/usr/share/opencv"}) {
    std::error_code ec;
    if (fs::is_directory(fs::path(dir) / "haarcascades", ec)) return dir;
  }
  return "";
}

namespace {

void check_model_file(const std::string& path, const std::string& kind) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  SEMIFER_CHECK(fs::exists(status), "the ", kind, " detector's model ", path,
                " does not exist");
  SEMIFER_CHECK(fs::is_regular_file(status), "the ", kind, " detector's model ",
                path, " is not a regular file");
}

// The scale that brings a frame to the detection width (<= 1).
double detect_scale(const io::Image& frame, int detect_width) {
  if (detect_width <= 0 || frame.width <= detect_width) return 1.0;
  return static_cast<double>(detect_width) / frame.width;
}

// The regions with the frame's minimum face size applied.
std::vector<SearchRegion> with_min_face(std::vector<SearchRegion> regions,
                                        const io::Image& frame,
                                        float min_face) {
  const float least =
      min_face * static_cast<float>(std::min(frame.width, frame.height));
  for (SearchRegion& r : regions) r.min_side = std::max(r.min_side, least);
  return regions;
}

// A region's pixels inside the frame (empty when it lies outside).
cv::Rect clip(const SearchRegion& r, const io::Image& frame) {
  const int x0 = std::max(0, static_cast<int>(std::floor(r.x)));
  const int y0 = std::max(0, static_cast<int>(std::floor(r.y)));
  const int x1 = std::min(frame.width, static_cast<int>(std::ceil(r.x + r.w)));
  const int y1 = std::min(frame.height, static_cast<int>(std::ceil(r.y + r.h)));
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

class CascadeDetector : public FaceDetector {
 public:
  CascadeDetector(const DetectorOptions& options, std::string kind)
      : options_(options), kind_(std::move(kind)) {
    std::string path = options.model;
    if (path.empty()) {
      const std::string dir = cascade_folder();
      SEMIFER_CHECK(!dir.empty(), "the ", kind_,
                    " detector needs opencv-data's cascades "
                    "(apt-get install opencv-data) or --detector-model FILE");
      path = kind_ == "haar"
                 ? dir + "/haarcascades/haarcascade_frontalface_default.xml"
                 : dir + "/lbpcascades/lbpcascade_frontalface_improved.xml";
    }
    check_model_file(path, kind_);
    bool loaded = false;
    try {
      loaded = cascade_.load(path);
    } catch (const cv::Exception& e) {
      loaded = false;
    }
    SEMIFER_CHECK(loaded && !cascade_.empty(), "cannot load the ", kind_,
                  " cascade ", path, ": not an OpenCV cascade file");
  }

  std::vector<Detection> detect(const io::Image& frame) override {
    const cv::Mat rgb(frame.height, frame.width, CV_8UC3,
                      const_cast<uint8_t*>(frame.data.data()));
    cv::cvtColor(rgb, gray_, cv::COLOR_RGB2GRAY);
    const double scale = detect_scale(frame, options_.detect_width);
    if (scale < 1.0)
      cv::resize(gray_, small_, cv::Size(), scale, scale, cv::INTER_AREA);
    else
      small_ = gray_;
    cv::equalizeHist(small_, small_);
    const int side = std::min(small_.cols, small_.rows);
    const int min_size =
        std::max(20, static_cast<int>(std::lround(options_.min_face * side)));
    std::vector<cv::Rect> boxes;
    std::vector<int> counts;
    cascade_.detectMultiScale(small_, boxes, counts, options_.scale_step,
                              neighbors(), 0, cv::Size(min_size, min_size));
    std::vector<Detection> out;
    out.reserve(boxes.size());
    for (size_t i = 0; i < boxes.size(); ++i)
      out.push_back(
          to_frame(boxes[i], i < counts.size() ? counts[i] : 0, scale, 0, 0));
    sort_by_score(out);
    return out;
  }

  std::vector<Detection> detect_in(
      const io::Image& frame, const std::vector<SearchRegion>& asked) override {
    std::vector<Detection> out;
    if (asked.empty()) return out;
    const std::vector<SearchRegion> regions =
        with_min_face(asked, frame, options_.min_face);
    const cv::Mat rgb(frame.height, frame.width, CV_8UC3,
                      const_cast<uint8_t*>(frame.data.data()));
    const double scale = detect_scale(frame, options_.detect_width);
    for (const SearchRegion& r : regions) {
      const cv::Rect roi = clip(r, frame);
      if (roi.width < 20 || roi.height < 20) continue;
      cv::cvtColor(rgb(roi), gray_, cv::COLOR_RGB2GRAY);
      if (scale < 1.0)
        cv::resize(gray_, small_, cv::Size(), scale, scale, cv::INTER_AREA);
      else
        small_ = gray_;
      cv::equalizeHist(small_, small_);
      const int min_size =
          std::max(20, static_cast<int>(std::lround(r.min_side * scale)));
      const int max_size =
          std::min(std::min(small_.cols, small_.rows),
                   static_cast<int>(std::lround(r.max_side * scale)));
      if (max_size < min_size) continue;
      std::vector<cv::Rect> boxes;
      std::vector<int> counts;
      cascade_.detectMultiScale(small_, boxes, counts, options_.scale_step,
                                neighbors(), 0, cv::Size(min_size, min_size),
                                cv::Size(max_size, max_size));
      for (size_t i = 0; i < boxes.size(); ++i)
        out.push_back(to_frame(boxes[i], i < counts.size() ? counts[i] : 0,
                               scale, roi.x, roi.y));
    }
    return keep_in_regions(std::move(out), regions);
  }

  std::string name() const override { return kind_; }

 private:
  int neighbors() const {
    return options_.min_score > 0
               ? static_cast<int>(std::lround(options_.min_score))
               : 3;
  }

  // A box found at `scale` in a part of the frame starting at (x0, y0).
  static Detection to_frame(const cv::Rect& box, int count, double scale,
                            int x0, int y0) {
    Detection d;
    d.x = static_cast<float>(x0 + box.x / scale);
    d.y = static_cast<float>(y0 + box.y / scale);
    d.w = static_cast<float>(box.width / scale);
    d.h = static_cast<float>(box.height / scale);
    d.score = static_cast<float>(count);
    return d;
  }

  DetectorOptions options_;
  std::string kind_;
  cv::CascadeClassifier cascade_;
  cv::Mat gray_, small_;
};

// The side of the square input YuNet searches a region in.
constexpr int kRegionInput = 160;

class YuNetDetector : public FaceDetector {
 public:
  explicit YuNetDetector(const DetectorOptions& options) : options_(options) {
    check_model_file(options.model, "yunet");
    net_ = load(cv::Size(320, 320));
  }

  std::vector<Detection> detect(const io::Image& frame) override {
    const cv::Mat rgb(frame.height, frame.width, CV_8UC3,
                      const_cast<uint8_t*>(frame.data.data()));
    const double scale = detect_scale(frame, options_.detect_width);
    if (scale < 1.0) {
      cv::resize(rgb, small_, cv::Size(), scale, scale, cv::INTER_AREA);
      cv::cvtColor(small_, bgr_, cv::COLOR_RGB2BGR);
    } else {
      cv::cvtColor(rgb, bgr_, cv::COLOR_RGB2BGR);
    }
    if (bgr_.size() != size_) {
      try {
        net_->setInputSize(bgr_.size());
      } catch (const cv::Exception& e) {
        fail("the yunet detector cannot take a ", frame.width, "x",
             frame.height, " frame: ", util::excerpt(e.what()));
      }
      size_ = bgr_.size();
    }
    std::vector<Detection> out;
    const float min_side =
        options_.min_face * static_cast<float>(std::min(bgr_.cols, bgr_.rows));
    append(run(*net_, bgr_, frame), scale, 0, 0, min_side, out);
    sort_by_score(out);
    return out;
  }

  std::vector<Detection> detect_in(
      const io::Image& frame, const std::vector<SearchRegion>& asked) override {
    std::vector<Detection> out;
    if (asked.empty()) return out;
    const std::vector<SearchRegion> regions =
        with_min_face(asked, frame, options_.min_face);
    if (!region_net_) region_net_ = load(cv::Size(kRegionInput, kRegionInput));
    const cv::Mat rgb(frame.height, frame.width, CV_8UC3,
                      const_cast<uint8_t*>(frame.data.data()));
    for (const SearchRegion& r : regions) {
      const cv::Rect roi = clip(r, frame);
      if (roi.width < 8 || roi.height < 8) continue;
      // The region scaled to fit the square input, the rest left black.
      const double scale =
          static_cast<double>(kRegionInput) / std::max(roi.width, roi.height);
      const cv::Size fitted(
          std::min(kRegionInput,
                   static_cast<int>(std::lround(roi.width * scale))),
          std::min(kRegionInput,
                   static_cast<int>(std::lround(roi.height * scale))));
      cv::resize(rgb(roi), small_, fitted, 0, 0, cv::INTER_AREA);
      canvas_.create(kRegionInput, kRegionInput, CV_8UC3);
      canvas_.setTo(cv::Scalar::all(0));
      cv::cvtColor(small_, canvas_(cv::Rect(0, 0, fitted.width, fitted.height)),
                   cv::COLOR_RGB2BGR);
      append(run(*region_net_, canvas_, frame), scale,
             static_cast<float>(roi.x), static_cast<float>(roi.y), 0, out);
    }
    return keep_in_regions(std::move(out), regions);
  }

  std::string name() const override { return "yunet"; }

 private:
  cv::Ptr<cv::FaceDetectorYN> load(const cv::Size& size) const {
    const float threshold = options_.min_score > 0 ? options_.min_score : 0.6f;
    cv::Ptr<cv::FaceDetectorYN> net;
    try {
      net = cv::FaceDetectorYN::create(options_.model, "", size, threshold,
                                       0.3f, 5000);
    } catch (const cv::Exception& e) {
      fail("cannot load the yunet model ", options_.model,
           ": OpenCV cannot read it (OpenCV 4.6 reads the 2022 YuNet "
           "export with fixed input shape)");
    }
    SEMIFER_CHECK(!net.empty(), "cannot load the yunet model ", options_.model);
    return net;
  }

  static cv::Mat run(cv::FaceDetectorYN& net, const cv::Mat& bgr,
                     const io::Image& frame) {
    cv::Mat faces;
    try {
      net.detect(bgr, faces);
    } catch (const cv::Exception& e) {
      fail("the yunet detector failed on a ", frame.width, "x", frame.height,
           " frame: ", util::excerpt(e.what()));
    }
    return faces;
  }

  // YuNet's rows (box, 5 landmarks, score) found at `scale` in a part of
  // the frame starting at (x0, y0), without faces below `min_side` pixels
  // of the scaled input.
  static void append(const cv::Mat& faces, double scale, float x0, float y0,
                     float min_side, std::vector<Detection>& out) {
    for (int r = 0; r < faces.rows; ++r) {
      const float* v = faces.ptr<float>(r);
      if (std::min(v[2], v[3]) < min_side) continue;
      Detection d;
      d.x = x0 + static_cast<float>(v[0] / scale);
      d.y = y0 + static_cast<float>(v[1] / scale);
      d.w = static_cast<float>(v[2] / scale);
      d.h = static_cast<float>(v[3] / scale);
      d.has_landmarks = true;
      for (int k = 0; k < 5; ++k) {
        d.landmarks[k].x = x0 + static_cast<float>(v[4 + 2 * k] / scale);
        d.landmarks[k].y = y0 + static_cast<float>(v[5 + 2 * k] / scale);
      }
      d.score = v[14];
      out.push_back(d);
    }
  }

  DetectorOptions options_;
  cv::Ptr<cv::FaceDetectorYN> net_;
  cv::Ptr<cv::FaceDetectorYN> region_net_;  // made on first use
  cv::Size size_{320, 320};
  cv::Mat small_, bgr_, canvas_;
};

}  // namespace

std::unique_ptr<FaceDetector> create_detector(const DetectorOptions& options) {
  options.validate();
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  if (options.kind == "yunet") return std::make_unique<YuNetDetector>(options);
  return std::make_unique<CascadeDetector>(options, options.kind);
}

}  // namespace semifer::video
