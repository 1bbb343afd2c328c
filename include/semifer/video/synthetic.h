#pragma once

#include <string>
#include <vector>

#include "semifer/io/image.h"
#include "semifer/video/detector.h"

namespace semifer::video {

/// A face in a frame of a Scene: which face image, where (its square's
/// top-left corner, frame pixels) and how big.
struct Placement {
  int face = 0;
  float x = 0;
  float y = 0;
  float side = 100;
};

/// Videos with faces at known places, for the tests and `semifer bench
/// video`: square face images pasted on a textured background (a smooth
/// gradient with stripes and bars: structure at several scales, neither
/// flat nor noise).
struct Scene {
  int width = 640;
  int height = 480;
  std::vector<io::Image> faces;                ///< square RGB face images
  std::vector<std::vector<Placement>> frames;  ///< per frame (0-based)

  /// Frame `i` (0-based): the background with its faces pasted.
  io::Image render(size_t i) const;
  /// Writes every frame to `path` (MJPG AVI at `fps`).
  void write(const std::string& path, double fps = 25) const;
  /// The true box of a placement: the pasted square, shrunk to the face's
  /// extent inside it by `inner` (x0, y0, x1, y1 as fractions of the side).
  Detection truth(const Placement& p, const float inner[4]) const;
};

/// A scene of `frames` frames of `width` x `height` with two faces in view
/// at a time, drifting and bouncing off the frame's edges at 2-4 pixels a
/// frame, 100-150 pixels wide (for 640 x 480; scaled with the frame's
/// shorter side); every 75 frames one of them, in turn (the second first),
/// is replaced by the next face of `faces` at another place (a new person:
/// a new track). Deterministic.
Scene drifting_faces(const std::vector<io::Image>& faces, int frames,
                     int width = 640, int height = 480);

}  // namespace semifer::video
