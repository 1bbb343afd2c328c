// Private to src/augment: the fused CPU executor's working image.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "semifer/io/image.h"

namespace semifer::augment::detail {

/// `.to(torch.uint8)` of a clamped float, as torchvision's blends end:
/// truncation toward zero.
inline uint8_t to_u8(float v) {
  return static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v)));
}

/// Per-channel lookup tables, [3][256].
using Lut = std::array<std::array<uint8_t, 256>, 3>;

/// A uint8 image with a pending per-channel lookup table. Operations that
/// map each value through a function (brightness, contrast, posterize,
/// solarize, autocontrast, equalize) compose into the table instead of
/// making a pass over the pixels; the table is applied when another kind of
/// operation needs the pixels, or folded into the final normalisation. The
/// result is bit-identical to applying the operations one by one, since a
/// uint8 -> uint8 function composes exactly.
class LazyImage {
 public:
  explicit LazyImage(io::Image base);

  /// lut := f o lut.
  void compose(const Lut& f);
  /// The pixels with the table applied.
  const io::Image& materialize();
  /// Histograms of the three channels of the (virtual) current image.
  void histograms(int64_t hist[3][256]) const;
  /// Mean of rgb_to_grayscale(current image), gray values truncated.
  float gray_mean() const;
  /// adjust_saturation of the current image, in one pass that also applies
  /// the pending table.
  void saturate(float factor);
  /// F.normalize(F.to_tensor(current)) into [3, H, W] float32.
  void normalize_into(const std::array<float, 3>& mean,
                      const std::array<float, 3>& std, float* out) const;

  int width() const { return base_.width; }
  int height() const { return base_.height; }

 private:
  io::Image base_;
  Lut lut_;
  bool identity_ = true;
};

/// Tables of the value-wise operations, with torchvision's arithmetic.
Lut brightness_lut(float factor);
Lut contrast_lut(float factor, float gray_mean);
Lut posterize_lut(int bits);
Lut solarize_lut(float threshold);
/// From the histograms of the image the operation applies to.
Lut autocontrast_lut(const int64_t hist[3][256]);
Lut equalize_lut(const int64_t hist[3][256]);

/// Gray value torchvision's rgb_to_grayscale gives: (0.2989 r + 0.587 g +
/// 0.114 b).to(uint8), from precomputed float products.
uint8_t gray_value(uint8_t r, uint8_t g, uint8_t b);

}  // namespace semifer::augment::detail
