#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "semifer/infer/recognizer.h"
#include "semifer/io/video.h"
#include "semifer/video/detector.h"
#include "semifer/video/face_crop.h"
#include "semifer/video/smoother.h"
#include "semifer/video/tracker.h"

namespace semifer::video {

/// How `run_video` turns frames into per-face expressions.
struct VideoOptions {
  DetectorOptions detector;
  TrackerOptions tracker;
  CropOptions crop;
  SmoothingOptions smoothing;
  /// Detection on every N-th frame (the first, the (N+1)-th, ...) and on
  /// every frame after one where no face was found (nobody in view, a cut)
  /// searches the whole frame; the frames between are searched only around
  /// the live tracks' predicted boxes (search_region: twice the face's
  /// side, three times for a track whose face was missed; faces of 2/3 to
  /// 3/2 its size), several times cheaper. A face that comes into view
  /// while others are tracked, or that moved away from where its track
  /// expected it, is found within N-1 frames. 1: every frame whole. Photo
  /// folders are always searched whole.
  int detect_every = 5;
  /// Only the largest face of each frame is kept (single-person videos,
  /// ABAW files): one track while that face stays in view.
  bool largest_face = false;
  /// Frames decoded and detected ahead of the classifier (a bounded queue
  /// between the decode/detect thread and the classifying thread).
  int queue = 16;
  /// Face crops per forward pass (at most; a pass also runs when the queue
  /// runs dry).
  int batch = 32;
  int64_t max_frames = 0;  ///< stop after this many frames (0: all)
  /// Threads of the two stages, which run at once: OpenCV's worker threads
  /// for detection (cv::setNumThreads) and LibTorch's intra-op threads for
  /// the classifier. Both are process-wide and stay as run_video sets them;
  /// 0 leaves a library's own setting (every core). The classifier's
  /// batches are a few faces, which one thread classifies as fast as
  /// several, while more threads take the cores from detection: 1 makes
  /// the whole job 1.6-1.7x faster on 2 cores (docs/video.md, "Speed").
  int detect_threads = 0;
  int classify_threads = 1;
  /// Polled between frames; true ends the input there (a camera's Ctrl-C).
  std::function<bool()> stop_requested;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// One face in one frame, as classified (before smoothing).
struct FaceResult {
  int64_t track_id = -1;
  Detection detection;
  io::Image crop;  ///< what the classifier was given (crop_face)
  int label = -1;
  std::vector<float> probabilities;
};

/// One output row: a face track in a frame (OpenFace's layout: a row per
/// frame and face). `success` is false for a frame without any face (track
/// -1) and for a live track whose face was not found in this frame; such
/// rows carry no box, label or probabilities.
struct FaceRow {
  int64_t frame = 0;
  double timestamp_ms = 0;
  std::string file;  ///< the photo or frame file (folders), else empty
  int64_t track_id = -1;
  bool success = false;
  Detection detection;
  int label = -1;
  std::vector<float> probabilities;
  int smoothed_label = -1;  ///< -1 when smoothing is off
  std::vector<float> smoothed;
};

/// Where results go. on_frame comes first for each frame, right after it
/// is classified, with the decoded image; on_rows comes once the frame's
/// smoothed results are final (a smoothing window later), frames in order.
class VideoSink {
 public:
  virtual ~VideoSink() = default;
  virtual void begin(const io::SourceInfo& info,
                     const std::vector<std::string>& classes) {}
  virtual void on_frame(const io::Frame& frame,
                        const std::vector<FaceResult>& faces) {}
  virtual void on_rows(const std::vector<FaceRow>& rows) {}
  /// After the last on_rows (also when the input ended with an error).
  virtual void end() {}
};

/// Seconds spent per stage, summed over frames.
struct StageTimes {
  double decode = 0;
  double detect = 0;
  double track_crop = 0;  ///< tracking and crops
  double classify = 0;
  double write = 0;  ///< smoothing and the sinks
};

/// What run_video did.
struct VideoSummary {
  int64_t frames = 0;
  int64_t faces = 0;   ///< detections classified
  int64_t tracks = 0;  ///< track ids given
  int64_t rows = 0;
  int64_t frames_without_face = 0;
  int64_t whole_frame_detections = 0;  ///< frames searched whole
  double seconds = 0;                  ///< wall time
  StageTimes stages;
  /// The error that ended the input early (a damaged frame, a broken
  /// tail), empty when it was read to the end. The rows before it were
  /// written.
  std::string error;
};

/// Decodes `source` frame by frame in a thread of its own, detects and
/// tracks faces there, classifies the crops with `recognizer` in batches
/// in the calling thread, smooths each track and hands every frame's rows
/// to the sinks. Memory stays bounded by the queue and the smoothing
/// window, whatever the video's length. An error of the input (see
/// FrameSource::next) ends it: the rows of every frame before it are
/// written, then it is returned in VideoSummary::error. Other errors (a
/// sink that cannot write) throw semifer::Error.
VideoSummary run_video(io::FrameSource& source, const Recognizer& recognizer,
                       const VideoOptions& options,
                       const std::vector<VideoSink*>& sinks);

/// run_video with a detector of the caller's (options.detector unused).
VideoSummary run_video(io::FrameSource& source, FaceDetector& detector,
                       const Recognizer& recognizer,
                       const VideoOptions& options,
                       const std::vector<VideoSink*>& sinks);

}  // namespace semifer::video
