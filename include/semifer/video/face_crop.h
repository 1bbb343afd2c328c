#pragma once

#include <array>
#include <string>

#include "semifer/io/image.h"
#include "semifer/video/detector.h"

namespace semifer::video {

/// Where the five landmarks go in an aligned crop, as fractions of its
/// side (x right, y down), in Detection::landmarks order. The default is a
/// frontal face's proportions set by hand (eyes a third of the side apart
/// at 0.4 down, mouth at 0.76), not yet fitted to the training faces
/// (docs/video.md, "Crops and alignment").
struct FaceTemplate {
  std::array<Point, 5> points = {{{0.3270f, 0.3960f},
                                  {0.6730f, 0.3960f},
                                  {0.5000f, 0.5890f},
                                  {0.3550f, 0.7600f},
                                  {0.6450f, 0.7600f}}};
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
