// Test videos with faces at known places: the scenes the video tests write
// with cv::VideoWriter (MJPG in AVI) and the detector that reports their
// true boxes.
#pragma once

#include <string>
#include <vector>

#include "semifer/io/image.h"
#include "semifer/video/detector.h"

namespace semifer::test {

/// A face in a frame: which face image, where (its square's top-left
/// corner) and how big.
struct Placement {
  int face = 0;
  float x = 0;
  float y = 0;
  float side = 100;
};

/// Frames of faces pasted on a textured background.
struct Scene {
  int width = 640;
  int height = 480;
  std::vector<io::Image> faces;                ///< square face images
  std::vector<std::vector<Placement>> frames;  ///< per frame (0-based)

  /// Frame `i` (0-based): the background with its faces pasted.
  io::Image render(size_t i) const;
  /// Writes every frame to `path` (MJPG AVI at `fps`).
  void write(const std::string& path, double fps = 25) const;
  /// The true box of a placement: the pasted square, shrunk to the face's
  /// extent inside it by `inner` (x0, y0, x1, y1 as fractions of the side).
  video::Detection truth(const Placement& p, const float inner[4]) const;
};

/// Faces drawn by data::render_face (a studio: wildness 0), `side` pixels.
std::vector<io::Image> synthetic_faces(int count, int side, unsigned seed);

/// The first `count` UTKFace crops of ../shared (sorted by name, every
/// `stride`-th), or an empty list when ../shared is absent.
std::vector<io::Image> utkface_faces(int count, int stride = 37);

/// Reports a scene's true boxes (the pasted squares), frame by frame in the
/// order detect() is called; the image is not looked at.
class SceneDetector : public video::FaceDetector {
 public:
  explicit SceneDetector(const Scene& scene) : scene_(scene) {}
  std::vector<video::Detection> detect(const io::Image& frame) override;
  std::string name() const override { return "scene"; }

 private:
  const Scene& scene_;
  size_t next_ = 0;
};

/// A checkpoint of an untrained smallnet for the 7 FER2013 classes at 48
/// pixels, written into `dir`.
std::string write_fer_checkpoint(const std::string& dir);

}  // namespace semifer::test
