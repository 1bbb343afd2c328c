#include "semifer/io/video.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "semifer/io/frame_names.h"
#include "semifer/util/error.h"
#include "semifer/util/files.h"

namespace fs = std::filesystem;

namespace semifer::io {

namespace {

// The library never prints: OpenCV's own warnings (a backend that cannot
// open a file, FFmpeg's complaints) would go to stderr; semifer reports
// the failure itself, naming the file.
void quiet_opencv() {
  static const bool once = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    // OpenCV's FFmpeg backend sets FFmpeg's log level from this variable
    // when it first opens a file (else FFmpeg prints its errors, such as
    // a damaged frame's, to stderr). A level the user set is kept.
    ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);  // AV_LOG_QUIET
    return true;
  }();
  (void)once;
}

void check_size(int width, int height, const std::string& what) {
  SEMIFER_CHECK(static_cast<int64_t>(width) * height <= max_image_pixels(),
                what, ": frames of ", width, "x", height,
                " are above the pixel limit of ", max_image_pixels(),
                " (--max-pixels)");
}

// BGR (OpenCV) to RGB (io::Image), into `out`.
void to_rgb(const cv::Mat& bgr, Image& out) {
  out.width = bgr.cols;
  out.height = bgr.rows;
  out.data.resize(static_cast<size_t>(bgr.cols) * bgr.rows * 3);
  cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, out.data.data());
  if (bgr.channels() == 1)
    cv::cvtColor(bgr, rgb, cv::COLOR_GRAY2RGB);
  else if (bgr.channels() == 4)
    cv::cvtColor(bgr, rgb, cv::COLOR_BGRA2RGB);
  else
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
}

class CaptureSource : public FrameSource {
 public:
  CaptureSource(cv::VideoCapture capture, SourceInfo info, bool camera)
      : capture_(std::move(capture)), info_(std::move(info)), camera_(camera) {
    started_ = std::chrono::steady_clock::now();
  }
  const SourceInfo& info() const override { return info_; }

  bool next(Frame& frame) override {
    cv::Mat bgr;
    bool ok = false;
    try {
      ok = capture_.read(bgr) && !bgr.empty();
    } catch (const cv::Exception& e) {
      fail(info_.path, ": frame ", read_ + 1, " cannot be decoded (", e.what(),
           ")");
    }
    if (!ok) {
      SEMIFER_CHECK(read_ > 0, info_.path,
                    ": no frame can be decoded (an empty or damaged video)");
      // Containers whose index holds the count (AVI, MP4) announce it
      // exactly; others estimate it from the duration, hence the slack.
      const int64_t slack = std::max<int64_t>(2, info_.frame_count / 100);
      SEMIFER_CHECK(camera_ || info_.frame_count <= 0 ||
                        read_ + slack > info_.frame_count,
                    info_.path, ": the video ends after frame ", read_,
                    " of the ", info_.frame_count,
                    " its container announces (a damaged or cut file)");
      return false;
    }
    ++read_;
    check_size(bgr.cols, bgr.rows, str(info_.path, " frame ", read_));
    frame.number = read_;
    if (camera_) {
      frame.timestamp_ms = std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - started_)
                               .count();
    } else {
      const double ms = capture_.get(cv::CAP_PROP_POS_MSEC);
      frame.timestamp_ms =
          std::isfinite(ms) && ms >= 0.0
              ? ms
              : (info_.fps > 0 ? (read_ - 1) * 1000.0 / info_.fps : 0.0);
    }
    frame.file.clear();
    to_rgb(bgr, frame.image);
    return true;
  }

 private:
  cv::VideoCapture capture_;
  SourceInfo info_;
  bool camera_;
  int64_t read_ = 0;
  std::chrono::steady_clock::time_point started_;
};

class FolderSource : public FrameSource {
 public:
  FolderSource(std::vector<std::pair<int64_t, std::string>> files,
               SourceInfo info)
      : files_(std::move(files)), info_(std::move(info)) {}
  const SourceInfo& info() const override { return info_; }

  bool next(Frame& frame) override {
    if (next_ >= files_.size()) return false;
    const auto& [number, file] = files_[next_++];
    frame.image = read_image(file);
    frame.number = number;
    frame.file = file;
    frame.timestamp_ms = info_.kind == SourceKind::kFrameFolder && info_.fps > 0
                             ? (number - 1) * 1000.0 / info_.fps
                             : 0.0;
    return true;
  }

 private:
  std::vector<std::pair<int64_t, std::string>> files_;
  SourceInfo info_;
  size_t next_ = 0;
};

std::unique_ptr<FrameSource> open_folder(const std::string& path, double fps) {
  std::vector<fs::path> images;
  for (const auto& file : util::walk_files(path).files)
    if (has_image_extension(file)) images.emplace_back(file);
  SEMIFER_CHECK(!images.empty(), "folder ", path,
                " holds no images (.jpg, .jpeg, .png)");
  std::sort(images.begin(), images.end());
  const fs::path first_dir = images.front().parent_path();
  const bool frames =
      std::all_of(images.begin(), images.end(), [&](const fs::path& f) {
        return frame_number(f) > 0 && f.parent_path() == first_dir;
      });
  SourceInfo info;
  info.path = path;
  info.name = folder_name(path);
  info.kind = frames ? SourceKind::kFrameFolder : SourceKind::kPhotoFolder;
  info.fps = frames ? fps : 0.0;
  info.frame_count = static_cast<int64_t>(images.size());
  std::vector<std::pair<int64_t, std::string>> files;
  files.reserve(images.size());
  if (frames) {
    std::map<int64_t, std::string> by_number;
    for (const auto& f : images) {
      const int64_t n = frame_number(f);
      // The bound of data::kMaxFrame (Aff-Wild2 frames, predict inputs).
      SEMIFER_CHECK(n <= kMaxFrameNumber, f.string(), ": frame number ", n,
                    " is above ", kMaxFrameNumber,
                    " (frames are numbered 1, 2, ...)");
      const auto [it, fresh] = by_number.emplace(n, f.string());
      SEMIFER_CHECK(fresh, path, ": frame ", n, " appears twice (", it->second,
                    " and ", f.string(), ")");
    }
    for (auto& [n, f] : by_number) files.emplace_back(n, std::move(f));
  } else {
    int64_t n = 0;
    for (const auto& f : images) files.emplace_back(++n, f.string());
  }
  return std::make_unique<FolderSource>(std::move(files), std::move(info));
}

}  // namespace

std::unique_ptr<FrameSource> open_frames(const std::string& path, double fps) {
  SEMIFER_CHECK(std::isfinite(fps) && fps > 0, "the frame rate of ", path,
                " must be positive, got ", fps);
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  SEMIFER_CHECK(fs::exists(status), "input ", path, " does not exist");
  if (fs::is_directory(status)) return open_folder(path, fps);
  // A FIFO or a device would block or never end.
  SEMIFER_CHECK(fs::is_regular_file(status), "input ", path,
                " is not a regular file or a folder");
  quiet_opencv();
  cv::VideoCapture capture;
  try {
    capture.open(path, cv::CAP_FFMPEG);
  } catch (const cv::Exception& e) {
    fail("cannot open video ", path, ": ", e.what());
  }
  SEMIFER_CHECK(capture.isOpened(), "cannot open video ", path,
                ": not a video the FFmpeg backend reads, or a damaged one");
  SourceInfo info;
  info.path = path;
  info.name = fs::path(path).stem().string();
  info.kind = SourceKind::kVideoFile;
  info.width = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH));
  info.height = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT));
  check_size(info.width, info.height, path);
  const double fps_read = capture.get(cv::CAP_PROP_FPS);
  info.fps = std::isfinite(fps_read) && fps_read > 0 ? fps_read : 0.0;
  const double count = capture.get(cv::CAP_PROP_FRAME_COUNT);
  info.frame_count = std::isfinite(count) && count > 0 && count < 1e12
                         ? static_cast<int64_t>(count)
                         : -1;
  return std::make_unique<CaptureSource>(std::move(capture), std::move(info),
                                         false);
}

std::unique_ptr<FrameSource> open_camera(int index) {
  SEMIFER_CHECK(index >= 0, "camera index must be >= 0, got ", index);
  quiet_opencv();
  cv::VideoCapture capture;
  try {
    capture.open(index);
  } catch (const cv::Exception& e) {
    fail("cannot open camera ", index, ": ", e.what());
  }
  SEMIFER_CHECK(capture.isOpened(), "cannot open camera ", index,
                " (/dev/video", index, ")");
  SourceInfo info;
  info.path = str("camera ", index);
  info.name = str("camera", index);
  info.kind = SourceKind::kCamera;
  info.width = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH));
  info.height = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT));
  const double fps_read = capture.get(cv::CAP_PROP_FPS);
  info.fps = std::isfinite(fps_read) && fps_read > 0 ? fps_read : 0.0;
  return std::make_unique<CaptureSource>(std::move(capture), std::move(info),
                                         true);
}

struct VideoWriter::Impl {
  cv::VideoWriter writer;
  int width = 0;
  int height = 0;
  cv::Mat bgr;
};

VideoWriter::VideoWriter(const std::string& path, int width, int height,
                         double fps, const std::string& fourcc)
    : impl_(std::make_unique<Impl>()), path_(path) {
  SEMIFER_CHECK(fourcc.size() == 4, "a FOURCC has 4 characters, got '", fourcc,
                "'");
  SEMIFER_CHECK(width > 0 && height > 0, path, ": frame size ", width, "x",
                height, " is not positive");
  SEMIFER_CHECK(std::isfinite(fps) && fps > 0, path, ": frame rate ", fps,
                " is not positive");
  quiet_opencv();
  // OpenCV reports a folder that does not exist as an opened writer that
  // writes nothing: create the file first, for a real error.
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    fail("cannot create video ", path, ": ", std::strerror(e));
  }
  ::close(fd);
  const int code =
      cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]);
  try {
    impl_->writer.open(path, cv::CAP_FFMPEG, code, fps, cv::Size(width, height),
                       true);
  } catch (const cv::Exception& e) {
    fail("cannot create video ", path, ": ", e.what());
  }
  SEMIFER_CHECK(impl_->writer.isOpened(), "cannot create video ", path, " (",
                fourcc, " at ", width, "x", height, ")");
  impl_->width = width;
  impl_->height = height;
}

VideoWriter::~VideoWriter() {
  try {
    if (impl_) impl_->writer.release();
  } catch (...) {
  }
}

void VideoWriter::write(const Image& frame) {
  SEMIFER_CHECK(impl_->writer.isOpened(), path_, ": the video is closed");
  SEMIFER_CHECK(frame.width == impl_->width && frame.height == impl_->height,
                path_, ": a frame of ", frame.width, "x", frame.height,
                " in a video of ", impl_->width, "x", impl_->height);
  const cv::Mat rgb(frame.height, frame.width, CV_8UC3,
                    const_cast<uint8_t*>(frame.data.data()));
  cv::cvtColor(rgb, impl_->bgr, cv::COLOR_RGB2BGR);
  impl_->writer.write(impl_->bgr);
}

void VideoWriter::close() { impl_->writer.release(); }

std::string opencv_version() { return CV_VERSION; }

}  // namespace semifer::io
