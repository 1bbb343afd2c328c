#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "semifer/io/image.h"

/// Frames from a video file, a folder of frames or photos, or a camera,
/// and video files written back (OpenCV's videoio with its FFmpeg backend;
/// no OpenCV type in this header). docs/video.md.
namespace semifer::io {

/// What a frame source is.
enum class SourceKind {
  kVideoFile,    ///< a container OpenCV's FFmpeg backend reads
  kFrameFolder,  ///< images named by frame number (00001.jpg, ...): a video
  kPhotoFolder,  ///< any other images: independent photos
  kCamera,       ///< a capture device (cv::VideoCapture(N))
};

/// One decoded frame.
struct Frame {
  int64_t number = 0;         ///< 1-based position in the source
  double timestamp_ms = 0.0;  ///< presentation time (0 for photos)
  Image image;                ///< RGB
  std::string file;           ///< the image file (folders), else empty
};

/// A source's description, known after opening.
struct SourceInfo {
  std::string name;  ///< output name: the file's stem, the folder's name
  std::string path;  ///< as given ("camera 0" for a camera)
  SourceKind kind = SourceKind::kVideoFile;
  int width = 0;   ///< of the first frame (videos, cameras; 0 for folders)
  int height = 0;  ///<
  double fps = 0;  ///< as the container says (0: unknown)
  /// Frames the container announces (-1: unknown, cameras); a file may
  /// hold fewer (a broken tail), which next() reports.
  int64_t frame_count = -1;
};

/// A stream of frames, read once, in order. Not thread-safe.
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const SourceInfo& info() const = 0;
  /// The next frame into `frame`; false at the end. Throws semifer::Error
  /// naming the source and the frame when a frame cannot be decoded, is
  /// above max_image_pixels(), or the file ends before the frames its
  /// container announced (a broken tail): the frames before it were good.
  virtual bool next(Frame& frame) = 0;
};

/// Opens `path`: a folder of images (frame folder when every image is named
/// by a frame number, else a photo folder; images below it in sorted order,
/// frames in number order; `fps` gives frame folders their timestamps) or a
/// video file. Throws semifer::Error naming the path when it does not exist,
/// is not a regular file or folder, holds no image, or is not a video the
/// FFmpeg backend can open, or when the frame size is above
/// max_image_pixels().
std::unique_ptr<FrameSource> open_frames(const std::string& path,
                                         double fps = 30.0);

/// Opens capture device `index` (/dev/video<index>). Throws semifer::Error
/// when it cannot be opened.
std::unique_ptr<FrameSource> open_camera(int index);

/// Writes frames to a video file: MJPG in AVI (OpenCV writes it without
/// any codec library), or any FOURCC OpenCV's FFmpeg backend has.
class VideoWriter {
 public:
  /// Creates `path` for frames of `width` x `height` at `fps`. Throws
  /// semifer::Error naming the file when it cannot be created.
  VideoWriter(const std::string& path, int width, int height, double fps,
              const std::string& fourcc = "MJPG");
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  /// Appends an RGB frame of the size given at construction.
  void write(const Image& frame);
  /// Finishes the file (the destructor does it too, without errors).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

/// The OpenCV version that reads and writes video ("4.6.0").
std::string opencv_version();

}  // namespace semifer::io
