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
    const int neighbors =
        options_.min_score > 0
            ? static_cast<int>(std::lround(options_.min_score))
            : 3;
    std::vector<cv::Rect> boxes;
    std::vector<int> counts;
    cascade_.detectMultiScale(small_, boxes, counts, options_.scale_step,
                              neighbors, 0, cv::Size(min_size, min_size));
    std::vector<Detection> out;
    out.reserve(boxes.size());
    for (size_t i = 0; i < boxes.size(); ++i) {
      Detection d;
      d.x = static_cast<float>(boxes[i].x / scale);
      d.y = static_cast<float>(boxes[i].y / scale);
      d.w = static_cast<float>(boxes[i].width / scale);
      d.h = static_cast<float>(boxes[i].height / scale);
      d.score = i < counts.size() ? static_cast<float>(counts[i]) : 0.0f;
      out.push_back(d);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Detection& a, const Detection& b) {
                       return a.score > b.score;
                     });
    return out;
  }

  std::string name() const override { return kind_; }

 private:
  DetectorOptions options_;
  std::string kind_;
  cv::CascadeClassifier cascade_;
  cv::Mat gray_, small_;
};

class YuNetDetector : public FaceDetector {
 public:
  explicit YuNetDetector(const DetectorOptions& options) : options_(options) {
    check_model_file(options.model, "yunet");
    const float threshold = options.min_score > 0 ? options.min_score : 0.6f;
    try {
      net_ = cv::FaceDetectorYN::create(options.model, "", cv::Size(320, 320),
                                        threshold, 0.3f, 5000);
    } catch (const cv::Exception& e) {
      fail("cannot load the yunet model ", options.model,
           ": OpenCV cannot read it (OpenCV 4.6 reads the 2022 YuNet "
           "export with fixed input shape)");
    }
    SEMIFER_CHECK(!net_.empty(), "cannot load the yunet model ", options.model);
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
    cv::Mat faces;
    try {
      if (bgr_.size() != size_) {
        net_->setInputSize(bgr_.size());
        size_ = bgr_.size();
      }
      net_->detect(bgr_, faces);
    } catch (const cv::Exception& e) {
      fail("the yunet detector failed on a ", frame.width, "x", frame.height,
           " frame: ", util::excerpt(e.what()));
    }
    std::vector<Detection> out;
    const float min_side =
        options_.min_face * static_cast<float>(std::min(bgr_.cols, bgr_.rows));
    for (int r = 0; r < faces.rows; ++r) {
      const float* v = faces.ptr<float>(r);
      if (std::min(v[2], v[3]) < min_side) continue;
      Detection d;
      d.x = static_cast<float>(v[0] / scale);
      d.y = static_cast<float>(v[1] / scale);
      d.w = static_cast<float>(v[2] / scale);
      d.h = static_cast<float>(v[3] / scale);
      d.has_landmarks = true;
      for (int k = 0; k < 5; ++k) {
        d.landmarks[k].x = static_cast<float>(v[4 + 2 * k] / scale);
        d.landmarks[k].y = static_cast<float>(v[5 + 2 * k] / scale);
      }
      d.score = v[14];
      out.push_back(d);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Detection& a, const Detection& b) {
                       return a.score > b.score;
                     });
    return out;
  }

  std::string name() const override { return "yunet"; }

 private:
  DetectorOptions options_;
  cv::Ptr<cv::FaceDetectorYN> net_;
  cv::Size size_;
  cv::Mat small_, bgr_;
};

}  // namespace

std::unique_ptr<FaceDetector> create_detector(const DetectorOptions& options) {
  options.validate();
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  if (options.kind == "yunet") return std::make_unique<YuNetDetector>(options);
  return std::make_unique<CascadeDetector>(options, options.kind);
}

}  // namespace semifer::video
