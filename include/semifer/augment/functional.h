#pragma once

#include <array>
#include <cstdint>

#include "semifer/io/image.h"

/// Image operations with torchvision's semantics
/// (`torchvision.transforms.functional` on uint8 tensors), as CPU kernels on
/// 8-bit RGB images in HWC layout ([H, W, 3] uint8, io::Image).
///
/// Each function documents the torchvision function it follows. Arithmetic
/// is the same: float math, then truncation to uint8 where torchvision
/// converts with `.to(uint8)`, rounding where it rounds (resize, the blur of
/// adjust_sharpness). Randomness never happens here: callers draw parameters
/// (views.h) and pass them in, so the same parameters drive the batched
/// implementation (batched.h).
namespace semifer::augment {

/// F.resize(img, [h, w], BILINEAR, antialias=True): separable triangle
/// filter (PIL's bilinear), widened when shrinking; float math, rounded.
io::Image resize(const io::Image& img, int width, int height);

/// F.hflip.
io::Image hflip(const io::Image& img);

/// F.pad(img, pad, padding_mode="reflect") followed by F.crop(img, top,
/// left, H, W): a translation by (pad - left, pad - top) with mirrored
/// borders, in one pass; with `flip`, of F.hflip(img). Needs
/// pad < min(H, W).
io::Image pad_reflect_crop(const io::Image& img, int pad, int top, int left,
                           bool flip = false);

/// F.adjust_brightness: blend with black.
io::Image adjust_brightness(const io::Image& img, float factor);

/// F.adjust_contrast: blend with the mean of the (truncated) grayscale image.
io::Image adjust_contrast(const io::Image& img, float factor);

/// F.adjust_saturation: blend with the (truncated) grayscale image.
io::Image adjust_saturation(const io::Image& img, float factor);

/// F.adjust_sharpness: blend with the image smoothed by the 3x3 kernel
/// [1 1 1; 1 5 1; 1 1 1] / 13 (border pixels kept).
io::Image adjust_sharpness(const io::Image& img, float factor);

/// F.autocontrast: per channel, stretch [min, max] to [0, 255].
io::Image autocontrast(const io::Image& img);

/// F.equalize: per-channel histogram equalisation (PIL's algorithm).
io::Image equalize(const io::Image& img);

/// F.posterize: keep the top `bits` bits.
io::Image posterize(const io::Image& img, int bits);

/// F.solarize: invert values >= threshold.
io::Image solarize(const io::Image& img, float threshold);

/// F.affine(img, angle, translate, scale, shear, NEAREST, fill, center) on a
/// tensor: degrees, pixels; `center` in pixels from the top-left corner, or
/// the image centre when `has_center` is false. Output pixels that map
/// outside the input take `fill`.
io::Image affine(const io::Image& img, float angle, float translate_x,
                 float translate_y, float scale, float shear_x, float shear_y,
                 bool has_center, float center_x, float center_y,
                 std::array<uint8_t, 3> fill);

/// The inverse matrix F.affine samples with (same arguments as affine()),
/// in float32 as torchvision builds its grid: output pixel (j, i) of a
/// width x height image reads input pixel (round(sx), round(sy)) with
/// sx = x m0 + y m1 + m2 + width / 2 - 1/2,
/// sy = x m3 + y m4 + m5 + height / 2 - 1/2,
/// x = j + 1/2 - width / 2, y = i + 1/2 - height / 2.
std::array<float, 6> affine_matrix(int width, int height, float angle,
                                   float translate_x, float translate_y,
                                   float scale, float shear_x, float shear_y,
                                   bool has_center, float center_x,
                                   float center_y);

/// Nearest-neighbour sampling through a matrix from affine_matrix(); output
/// pixels that map outside the input take `fill`. affine() is
/// warp_nearest(img, affine_matrix(...), fill).
io::Image warp_nearest(const io::Image& img, const std::array<float, 6>& m,
                       std::array<uint8_t, 3> fill);

/// F.rotate(img, angle, NEAREST, expand=False, fill): counter-clockwise
/// degrees about the centre.
io::Image rotate(const io::Image& img, float angle,
                 std::array<uint8_t, 3> fill);

/// Fills the box [x0, x1) x [y0, y1) (clipped) with `fill`, in place.
void fill_box(io::Image& img, int x0, int y0, int x1, int y1,
              std::array<uint8_t, 3> fill);

/// F.normalize(F.to_tensor(img), mean, std): writes [3, H, W] float32
/// (channel planes) to `out`.
void normalize_into(const io::Image& img, const std::array<float, 3>& mean,
                    const std::array<float, 3>& std, float* out);

}  // namespace semifer::augment
