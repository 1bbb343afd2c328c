#include "semifer/video/outputs.h"

#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "semifer/eval/predict.h"
#include "semifer/eval/submission.h"
#include "semifer/io/frame_names.h"
#include "semifer/io/video.h"
#include "semifer/util/atomic_file.h"
#include "semifer/util/csv.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::video {

namespace {

void append(std::string& out, const char* format, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v);
  out += buf;
}

}  // namespace

std::string csv_header(const std::vector<std::string>& classes,
                       const CsvLayout& layout) {
  std::string h = "frame";
  if (layout.file) h += ",file";
  h += ",timestamp_ms,track_id,success,confidence,x,y,w,h";
  if (layout.landmarks) {
    for (int i = 0; i < 5; ++i) h += ",x_" + std::to_string(i);
    for (int i = 0; i < 5; ++i) h += ",y_" + std::to_string(i);
  }
  h += ",label";
  for (const auto& c : classes) h += "," + util::csv_field(c);
  if (layout.smoothed) {
    h += ",smoothed_label";
    for (const auto& c : classes) h += "," + util::csv_field("smoothed_" + c);
  }
  return h;
}

std::string csv_line(const FaceRow& r, const std::vector<std::string>& classes,
                     const CsvLayout& layout) {
  std::string l = std::to_string(r.frame);
  if (layout.file) l += "," + util::csv_field(r.file);
  append(l, ",%.3f", r.timestamp_ms);
  l += r.track_id >= 0 ? "," + std::to_string(r.track_id) : ",";
  l += r.success ? ",1" : ",0";
  const size_t c_count = classes.size();
  auto empties = [&](size_t n) { l.append(n, ','); };
  if (!r.success) {
    empties(5 + (layout.landmarks ? 10 : 0) + 1 + c_count);
    if (layout.smoothed) empties(1 + c_count);
    return l;
  }
  const Detection& d = r.detection;
  append(l, ",%.4g", d.score);
  append(l, ",%.1f", d.x);
  append(l, ",%.1f", d.y);
  append(l, ",%.1f", d.w);
  append(l, ",%.1f", d.h);
  if (layout.landmarks) {
    for (int i = 0; i < 5; ++i)
      if (d.has_landmarks)
        append(l, ",%.1f", d.landmarks[i].x);
      else
        l += ",";
    for (int i = 0; i < 5; ++i)
      if (d.has_landmarks)
        append(l, ",%.1f", d.landmarks[i].y);
      else
        l += ",";
  }
  SEMIFER_CHECK(r.label >= 0 && static_cast<size_t>(r.label) < c_count &&
                    r.probabilities.size() == c_count,
                "video: a row without its class probabilities");
  l += "," + util::csv_field(classes[r.label]);
  for (float p : r.probabilities) append(l, ",%.6f", p);
  if (layout.smoothed) {
    if (r.smoothed_label >= 0 && r.smoothed.size() == c_count) {
      l += "," + util::csv_field(classes[r.smoothed_label]);
      for (float p : r.smoothed) append(l, ",%.6f", p);
    } else {
      empties(1 + c_count);
    }
  }
  return l;
}

// ---- CSV --------------------------------------------------------------------

struct CsvSink::Impl {
  std::string path;
  CsvLayout layout;
  std::vector<std::string> classes;
  std::unique_ptr<util::AtomicFile> file;
};

CsvSink::CsvSink(std::string path, CsvLayout layout)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  impl_->layout = layout;
}
CsvSink::~CsvSink() = default;

void CsvSink::begin(const io::SourceInfo&,
                    const std::vector<std::string>& classes) {
  impl_->classes = classes;
  impl_->file = std::make_unique<util::AtomicFile>(impl_->path);
  const std::string h = csv_header(classes, impl_->layout) + "\n";
  impl_->file->write(h.data(), h.size());
}

void CsvSink::on_rows(const std::vector<FaceRow>& rows) {
  std::string text;
  for (const FaceRow& r : rows)
    text += csv_line(r, impl_->classes, impl_->layout) + "\n";
  impl_->file->write(text.data(), text.size());
}

void CsvSink::end() {
  if (impl_->file) impl_->file->commit();
  impl_->file.reset();
}

// ---- ABAW -------------------------------------------------------------------

struct AbawSink::Impl {
  std::string dir;
  io::SourceInfo info;
  std::vector<std::string> classes;
  std::vector<int> labels;  // per frame 1..n (index n - 1); -1: no face
  std::string written;
};

AbawSink::AbawSink(std::string dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(dir);
}
AbawSink::~AbawSink() = default;

void AbawSink::begin(const io::SourceInfo& info,
                     const std::vector<std::string>& classes) {
  SEMIFER_CHECK(info.kind != io::SourceKind::kPhotoFolder, info.path,
                ": ABAW files are per-frame labels of a video; this is a "
                "folder of photos");
  impl_->info = info;
  impl_->classes = classes;
  impl_->labels.clear();
}

void AbawSink::on_rows(const std::vector<FaceRow>& rows) {
  const FaceRow* best = nullptr;
  for (const FaceRow& r : rows)
    if (r.success && (!best || r.detection.w * r.detection.h >
                                   best->detection.w * best->detection.h))
      best = &r;
  if (rows.empty()) return;
  const int64_t frame = rows.front().frame;
  SEMIFER_CHECK(frame >= 1 && frame <= io::kMaxFrameNumber, impl_->info.path,
                ": frame ", frame, " is outside 1..", io::kMaxFrameNumber);
  if (impl_->labels.size() < static_cast<size_t>(frame))
    impl_->labels.resize(static_cast<size_t>(frame), -1);
  if (best)
    impl_->labels[frame - 1] =
        best->smoothed_label >= 0 ? best->smoothed_label : best->label;
}

void AbawSink::end() {
  std::vector<int32_t> frames;
  for (size_t f = 0; f < impl_->labels.size(); ++f)
    if (impl_->labels[f] >= 0) frames.push_back(static_cast<int32_t>(f + 1));
  SEMIFER_CHECK(!frames.empty(), impl_->info.path,
                ": no face was found in any frame; no ABAW file written");
  // Frames without a face: the nearest frame's label, as smooth_video
  // fills frames without an image (a window of 1 leaves the rest as is).
  std::vector<int> labels;
  for (int32_t f : frames) labels.push_back(impl_->labels[f - 1]);
  eval::SmoothOptions one;
  one.window = 1;
  eval::Predictions p;
  p.classes = impl_->classes;
  p.paths = {impl_->info.path};
  eval::VideoItems v;
  v.name = impl_->info.name;
  v.length = static_cast<int32_t>(impl_->labels.size());
  v.rows = {0};
  p.videos = {v};
  p.video_labels = {eval::smooth_labels(
      frames, labels, static_cast<int>(impl_->classes.size()), v.length, one)};
  eval::write_abaw_submission(p, impl_->dir);
  impl_->written = impl_->dir + "/" + v.name + ".txt";
}

std::string AbawSink::path() const { return impl_->written; }

// ---- annotated video --------------------------------------------------------

struct AnnotateSink::Impl {
  std::string path;
  double fps = 30;
  std::vector<std::string> classes;
  std::unique_ptr<io::VideoWriter> writer;  // opened at the first frame
  int width = 0;
  int height = 0;
  io::Image canvas;
};

AnnotateSink::AnnotateSink(std::string path, double fps)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  impl_->fps = fps > 0 ? fps : 30.0;
}
AnnotateSink::~AnnotateSink() = default;

void AnnotateSink::begin(const io::SourceInfo& info,
                         const std::vector<std::string>& classes) {
  impl_->classes = classes;
  if (info.fps > 0) impl_->fps = info.fps;
}

void AnnotateSink::on_frame(const io::Frame& frame,
                            const std::vector<FaceResult>& faces) {
  if (!impl_->writer) {
    impl_->width = frame.image.width;
    impl_->height = frame.image.height;
    impl_->writer = std::make_unique<io::VideoWriter>(
        impl_->path, impl_->width, impl_->height, impl_->fps);
  }
  impl_->canvas = frame.image;
  cv::Mat rgb(impl_->canvas.height, impl_->canvas.width, CV_8UC3,
              impl_->canvas.data.data());
  const double scale = std::max(0.4, rgb.rows / 720.0);
  for (const FaceResult& f : faces) {
    const cv::Rect box(cv::Point(static_cast<int>(f.detection.x),
                                 static_cast<int>(f.detection.y)),
                       cv::Size(static_cast<int>(f.detection.w),
                                static_cast<int>(f.detection.h)));
    const cv::Scalar colour(0, 220, 0);  // green in RGB as in BGR
    cv::rectangle(rgb, box, colour, std::max(1, int(2 * scale)));
    std::string text = "#" + std::to_string(f.track_id);
    if (f.label >= 0 && static_cast<size_t>(f.label) < impl_->classes.size())
      text += " " + impl_->classes[f.label];
    cv::putText(rgb, text, cv::Point(box.x, std::max(12, box.y - 4)),
                cv::FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour,
                std::max(1, int(2 * scale)));
  }
  // A photo folder's photos differ in size: each is fitted to the first.
  if (impl_->canvas.width != impl_->width ||
      impl_->canvas.height != impl_->height) {
    io::Image fitted(impl_->width, impl_->height);
    cv::Mat out(fitted.height, fitted.width, CV_8UC3, fitted.data.data());
    cv::resize(rgb, out, out.size());
    impl_->canvas = std::move(fitted);
  }
  impl_->writer->write(impl_->canvas);
}

void AnnotateSink::end() {
  if (impl_->writer) impl_->writer->close();
}

// ---- crops
// --------------------------------------------------------------------

CropSink::CropSink(std::string dir) : dir_(std::move(dir)) {}

void CropSink::begin(const io::SourceInfo&, const std::vector<std::string>&) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  SEMIFER_CHECK(!ec, "cannot create ", dir_, ": ", ec.message());
}

void CropSink::on_frame(const io::Frame& frame,
                        const std::vector<FaceResult>& faces) {
  char name[64];
  for (const FaceResult& f : faces) {
    std::snprintf(name, sizeof name, "%06lld_%lld.png",
                  static_cast<long long>(frame.number),
                  static_cast<long long>(f.track_id));
    io::write_image(util::join_path(dir_, name), f.crop, 90,
                    util::Durability::kFast);
  }
}

}  // namespace semifer::video
