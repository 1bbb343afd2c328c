#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "semifer/video/pipeline.h"

namespace semifer::video {

/// What the per-frame CSV holds beyond its fixed columns.
struct CsvLayout {
  bool file = false;       ///< a `file` column (folder inputs)
  bool landmarks = false;  ///< x_0..x_4, y_0..y_4 (detectors with landmarks)
  bool smoothed = false;   ///< smoothed_label and smoothed_<class> columns
};

/// The CSV header line (without newline) for `classes`:
/// frame,[file,]timestamp_ms,track_id,success,confidence,x,y,w,h,
/// [x_0..x_4,y_0..y_4,]label,<class>...,[smoothed_label,smoothed_<class>...]
/// (OpenFace's names where the field is the same: frame, face rows,
/// success, confidence, x_i/y_i landmarks).
std::string csv_header(const std::vector<std::string>& classes,
                       const CsvLayout& layout);

/// One CSV line (without newline) for a row. Rows with success 0 leave the
/// box, landmarks, labels and probabilities empty.
std::string csv_line(const FaceRow& row,
                     const std::vector<std::string>& classes,
                     const CsvLayout& layout);

/// Writes `path` (one row per frame and face track) as the frames come:
/// each frame's rows go to "<path>.tmp.<pid>" in one write, so that after
/// any stop the file holds every finished frame; end() renames it over
/// `path` (util::AtomicFile), so an earlier file is replaced only by a
/// complete one, or one complete up to the frame where the input failed.
class CsvSink : public VideoSink {
 public:
  CsvSink(std::string path, CsvLayout layout);
  ~CsvSink() override;
  void begin(const io::SourceInfo& info,
             const std::vector<std::string>& classes) override;
  void on_rows(const std::vector<FaceRow>& rows) override;
  void end() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Collects one label per frame for an ABAW expression file
/// (`dir/<video>.txt`, eval::write_abaw_submission): the largest face's
/// smoothed label (its raw label without smoothing); frames without a face
/// take the label of the nearest frame that has one, as eval fills frames
/// without an image. Refuses photo folders and videos without any face.
class AbawSink : public VideoSink {
 public:
  explicit AbawSink(std::string dir);
  ~AbawSink() override;
  void begin(const io::SourceInfo& info,
             const std::vector<std::string>& classes) override;
  void on_rows(const std::vector<FaceRow>& rows) override;
  void end() override;
  /// The file end() wrote.
  std::string path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes a copy of the video with each face's box, track id and label
/// (the frame's own label: a smoothed one is known only a window later),
/// MJPG in AVI.
class AnnotateSink : public VideoSink {
 public:
  AnnotateSink(std::string path, double fps);
  ~AnnotateSink() override;
  void begin(const io::SourceInfo& info,
             const std::vector<std::string>& classes) override;
  void on_frame(const io::Frame& frame,
                const std::vector<FaceResult>& faces) override;
  void end() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes every face crop the classifier was given as a PNG,
/// `dir/<frame, 6 digits>_<track>.png` (OpenFace's aligned faces): what a
/// model saw, to check or to predict again.
class CropSink : public VideoSink {
 public:
  explicit CropSink(std::string dir);
  void begin(const io::SourceInfo& info,
             const std::vector<std::string>& classes) override;
  void on_frame(const io::Frame& frame,
                const std::vector<FaceResult>& faces) override;

 private:
  std::string dir_;
};

}  // namespace semifer::video
