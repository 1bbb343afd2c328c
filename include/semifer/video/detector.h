#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "semifer/io/image.h"

/// Faces in frames: detectors, tracking, crops and the video pipeline
/// (docs/video.md). OpenCV stays inside src/video/.
namespace semifer::video {

/// A point in frame pixels.
struct Point {
  float x = 0;
  float y = 0;
};

/// One face a detector found, in the pixels of the frame it was given.
struct Detection {
  float x = 0;  ///< left
  float y = 0;  ///< top
  float w = 0;
  float h = 0;
  /// The detector's confidence. YuNet: a score in [0, 1]. Cascades: the
  /// number of neighbouring windows that agreed (minNeighbors and up), not a
  /// probability.
  float score = 0;
  /// Five landmarks (YuNet): right eye, left eye, nose tip, right and left
  /// mouth corners, as seen in the image (the subject's right eye is on the
  /// image's left).
  bool has_landmarks = false;
  std::array<Point, 5> landmarks{};
};

/// Intersection over union of two detections' boxes, in [0, 1].
float iou(const Detection& a, const Detection& b);

/// The detectors: "haar" and "lbp" (OpenCV cascades from opencv-data),
/// "yunet" (OpenCV's FaceDetectorYN with a model file).
const std::vector<std::string>& detector_names();

/// How a detector is made.
struct DetectorOptions {
  std::string kind = "lbp";  ///< one of detector_names(); docs/video.md
                             ///< says why lbp is the default
  /// The model file: a cascade XML (haar, lbp: default the frontal-face
  /// cascade of opencv-data) or the YuNet ONNX file (yunet: required).
  std::string model;
  /// Frames wider than this are scaled down to it for detection (boxes are
  /// scaled back); 0 keeps every frame's size.
  int detect_width = 640;
  /// Faces smaller than this fraction of the frame's shorter side are not
  /// looked for (cascades), or dropped (yunet).
  float min_face = 0.08f;
  /// YuNet: the lowest score kept. Cascades: the lowest number of
  /// neighbouring windows (minNeighbors) kept.
  float min_score = 0;  ///< 0: 0.6 (yunet), 3 (cascades)
  /// Cascades: the ratio between the window sizes tried (smaller finds
  /// more faces, slower).
  float scale_step = 1.05f;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// A part of a frame where a face of about a known size is looked for
/// (around a tracked face's predicted box), in frame pixels.
struct SearchRegion {
  float x = 0;  ///< left
  float y = 0;  ///< top
  float w = 0;
  float h = 0;
  float min_side = 0;  ///< the smallest face side looked for
  float max_side = 0;  ///< the largest
};

/// The region where the face of `predicted` is looked for in the next
/// frame: a square `scale` times its longer side around its centre, for
/// faces of 2/3 to 3/2 its side.
SearchRegion search_region(const Detection& predicted, float scale = 2.0f);

/// Keeps the faces whose box centre lies inside one of `regions` and whose
/// side (the mean of width and height) is in that region's range, dropping
/// a face that overlaps an earlier kept one by IoU 0.5 or more (regions of
/// nearby faces overlap); in decreasing score.
std::vector<Detection> keep_in_regions(
    std::vector<Detection> faces, const std::vector<SearchRegion>& regions);

/// Finds faces in frames. One detector is used by one thread at a time.
class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  /// The faces in an RGB frame, in decreasing score.
  virtual std::vector<Detection> detect(const io::Image& frame) = 0;
  /// The faces inside `regions` of an RGB frame (none when `regions` is
  /// empty), as keep_in_regions keeps them: the cheap search the video
  /// pipeline runs between whole-frame detections. This default runs
  /// detect() on the whole frame and filters; the OpenCV detectors search
  /// only the regions, at the face sizes asked for.
  virtual std::vector<Detection> detect_in(
      const io::Image& frame, const std::vector<SearchRegion>& regions);
  /// "haar", "lbp", "yunet".
  virtual std::string name() const = 0;
};

/// Makes a detector. Throws semifer::Error naming the model file when it is
/// missing or OpenCV cannot load it, or listing the known kinds.
std::unique_ptr<FaceDetector> create_detector(const DetectorOptions& options);

/// The worker threads OpenCV's detectors run on now (process-wide:
/// VideoOptions::detect_threads sets them).
int detection_threads();

/// Where opencv-data's cascades are (/usr/share/opencv4), or empty.
std::string cascade_folder();

}  // namespace semifer::video
