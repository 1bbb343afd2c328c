#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "semifer/io/image.h"
#include "semifer/video/detector.h"

namespace semifer::video {

/// Where the five landmarks go in an aligned crop, as fractions of its
/// side (x right, y down), in Detection::landmarks order. The default is
/// the geometry of FER2013's training crops: the mean landmarks YuNet finds
/// in 691 of 700 of them (`semifer data face-template`, fit_face_template;
/// docs/video.md, "Crops and alignment").
struct FaceTemplate {
  std::array<Point, 5> points = {{{0.3253f, 0.3875f},
                                  {0.6700f, 0.3857f},
                                  {0.4971f, 0.5836f},
                                  {0.3549f, 0.7453f},
                                  {0.6427f, 0.7445f}}};
};

/// How a face is cut out of a frame for the classifier.
struct CropOptions {
  /// Added on each side of the detector's box, as a fraction of its longer
  /// side, before the crop is made square around the box's centre.
  float margin = 0.1f;
  /// With landmarks (yunet): rotate and scale the face so that they fall on
  /// `face_template` (a similarity transform, least squares). Without
  /// landmarks, or false: the square box with margin, upright.
  bool align = true;
  FaceTemplate face_template;

  /// Throws semifer::Error naming the first bad value.
  void validate() const;
};

/// A FaceTemplate from text: ten numbers "x1,y1,...,x5,y5" (fractions of
/// the crop's side, in Detection::landmarks order), as
/// fit_face_template's callers print it. Throws semifer::Error naming the
/// text when it is not ten numbers in [0, 1].
FaceTemplate parse_face_template(const std::string& text);

/// `t` as parse_face_template reads it, 4 decimals.
std::string format_face_template(const FaceTemplate& t);

/// What fit_face_template found.
struct TemplateFit {
  FaceTemplate face_template;  ///< the mean over the images with a face
  int64_t images = 0;          ///< images looked at
  int64_t found = 0;           ///< of them, with a face and its landmarks
};

/// The geometry a model was trained on: the mean position of the five
/// landmarks that `detector` (yunet) finds in `images` (training crops), in
/// fractions of each image's width and height, the form crop_face aligns
/// to. Each image is searched in the middle of a canvas twice its size
/// (grey around it, scaled so that its longer side is 160 px), so that a
/// face filling a tight crop is still found; the most confident detection
/// with landmarks counts. Throws semifer::Error when no image has one.
TemplateFit fit_face_template(FaceDetector& detector,
                              const std::vector<io::Image>& images);

/// The square crop of `face` out of `frame`, `side` pixels wide (pixels
/// outside the frame repeat its border). Bilinear sampling: give a side
/// near the face's size in the frame and let the classifier's resize
/// (antialiased, as in training) bring it to the model's input size.
io::Image crop_face(const io::Image& frame, const Detection& face,
                    const CropOptions& options, int side);

/// The side crop_face should be given for `face` so that it is sampled
/// near its own resolution: the box with margin, within [min_side, 4 x
/// min_side].
int crop_side(const Detection& face, const CropOptions& options, int min_side);

}  // namespace semifer::video
