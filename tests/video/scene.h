// Test videos with faces at known places: the faces the video tests paste
// into their scenes (video/synthetic.h) and the detector that reports the
// true boxes.
#pragma once

#include <string>
#include <vector>

#include "semifer/io/image.h"
#include "semifer/video/detector.h"
#include "semifer/video/synthetic.h"

namespace semifer::test {

// The scenes themselves are the library's (video/synthetic.h).
using video::Placement;
using video::Scene;

/// Faces drawn by data::render_face (a studio: wildness 0), `side` pixels.
std::vector<io::Image> synthetic_faces(int count, int side, unsigned seed);

/// The first `count` UTKFace crops of ../shared (sorted by name, every
/// `stride`-th), or an empty list when ../shared is absent.
std::vector<io::Image> utkface_faces(int count, int stride = 37);

/// The face's extent inside a UTKFace crop (x0, y0, x1, y1 as fractions of
/// its side: 10% in from the sides, 5% from the top and the bottom), the
/// truth a detection must overlap.
inline constexpr float kUtkFaceInner[4] = {0.10f, 0.05f, 0.90f, 0.95f};

/// The detectors the real-face tests measure: the default, and yunet when
/// ../shared/models holds its model file.
std::vector<video::DetectorOptions> real_face_detectors();

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
/// pixels, written into `dir`; with `validation_f1` >= 0 its model card
/// records that macro F1 for both networks (at step 1).
std::string write_fer_checkpoint(const std::string& dir,
                                 double validation_f1 = -1);

}  // namespace semifer::test
