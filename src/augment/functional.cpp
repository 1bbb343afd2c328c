#include "semifer/augment/functional.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "lazy_image.h"
#include "semifer/util/error.h"

namespace semifer::augment {

using io::Image;

namespace {

// Round half to even, as std::nearbyint in the default rounding mode, for
// |v| < 2^22, without a libm call: adding and subtracting 1.5 * 2^23 leaves
// the rounded value (IEEE float addition rounds to nearest even).
inline float round_even(float v) {
  constexpr float kMagic = 12582912.0f;
  return (v + kMagic) - kMagic;
}

// One pass of PIL's / torch's antialiased bilinear resampling along an axis:
// for each output index, the first input index and the normalised weights.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;  // [out, max_taps]
  int max_taps = 0;
};

Taps make_taps(int in, int out) {
  const double scale = static_cast<double>(in) / out;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;
  Taps t;
  t.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out);
  t.count.resize(out);
  t.weights.assign(static_cast<size_t>(out) * t.max_taps, 0.0f);
  for (int i = 0; i < out; ++i) {
    const double center = scale * (i + 0.5);
    const double inv = 1.0 / filter_scale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax =
        std::min(static_cast<int>(center + support + 0.5), in) - xmin;
    double total = 0;
    std::vector<double> w(static_cast<size_t>(xmax));
    for (int k = 0; k < xmax; ++k) {
      const double x = (k + xmin - center + 0.5) * inv;
      w[k] = std::max(0.0, 1.0 - std::abs(x));
      total += w[k];
    }
    t.first[i] = xmin;
    t.count[i] = std::min(xmax, t.max_taps);
    for (int k = 0; k < t.count[i]; ++k) {
      t.weights[static_cast<size_t>(i) * t.max_taps + k] =
          static_cast<float>(total > 0 ? w[k] / total : 0.0);
    }
  }
  return t;
}

// Taps depend only on the sizes; a worker resizes the same sizes all run.
const Taps& cached_taps(int in, int out) {
  thread_local std::map<std::pair<int, int>, Taps> cache;
  auto it = cache.find({in, out});
  if (it == cache.end()) {
    if (cache.size() > 64) cache.clear();
    it = cache.emplace(std::make_pair(in, out), make_taps(in, out)).first;
  }
  return it->second;
}

inline int reflect(int i, int n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

// torchvision's _get_inverse_affine_matrix (inverted=True), in double.
std::array<double, 6> inverse_affine(double cx, double cy, double angle,
                                     double tx, double ty, double scale,
                                     double shear_x, double shear_y) {
  const double rot = angle * M_PI / 180.0;
  const double sx = shear_x * M_PI / 180.0;
  const double sy = shear_y * M_PI / 180.0;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b =
      -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d =
      -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  std::array<double, 6> m = {d, -b, 0.0, -c, a, 0.0};
  for (double& v : m) v /= scale;
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

}  // namespace

Image resize(const Image& img, int width, int height) {
  SEMIFER_CHECK(!img.empty() && width > 0 && height > 0, "resize: bad sizes ",
                img.width, "x", img.height, " -> ", width, "x", height);
  if (width == img.width && height == img.height) return img;
  const Taps& tx = cached_taps(img.width, width);
  const Taps& ty = cached_taps(img.height, height);
  // Horizontal pass into float rows [in_h, width, 3], then vertical.
  std::vector<float> mid(static_cast<size_t>(img.height) * width * 3);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = img.pixel(0, y);
    float* out = mid.data() + static_cast<size_t>(y) * width * 3;
    for (int x = 0; x < width; ++x) {
      const float* w = tx.weights.data() + static_cast<size_t>(x) * tx.max_taps;
      const uint8_t* src = row + tx.first[x] * 3;
      float r = 0, g = 0, b = 0;
      for (int k = 0; k < tx.count[x]; ++k) {
        r += w[k] * src[k * 3];
        g += w[k] * src[k * 3 + 1];
        b += w[k] * src[k * 3 + 2];
      }
      out[x * 3] = r;
      out[x * 3 + 1] = g;
      out[x * 3 + 2] = b;
    }
  }
  Image out(width, height);
  const size_t row_len = static_cast<size_t>(width) * 3;
  std::vector<float> acc(row_len);
  for (int y = 0; y < height; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    const float* w = ty.weights.data() + static_cast<size_t>(y) * ty.max_taps;
    for (int k = 0; k < ty.count[y]; ++k) {
      const float* src =
          mid.data() + static_cast<size_t>(ty.first[y] + k) * row_len;
      const float wk = w[k];
      for (size_t i = 0; i < row_len; ++i) acc[i] += wk * src[i];
    }
    uint8_t* dst = out.pixel(0, y);
    for (size_t i = 0; i < row_len; ++i) {
      dst[i] = static_cast<uint8_t>(
          std::min(255.0f, std::max(0.0f, round_even(acc[i]))));
    }
  }
  return out;
}

Image hflip(const Image& img) {
  Image out(img.width, img.height);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* src = img.pixel(0, y);
    uint8_t* dst = out.pixel(img.width - 1, y);
    for (int x = 0; x < img.width; ++x, src += 3, dst -= 3) {
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
  return out;
}

Image pad_reflect_crop(const Image& img, int pad, int top, int left,
                       bool flip) {
  SEMIFER_CHECK(pad >= 0 && pad < img.width && pad < img.height,
                "reflect padding ", pad, " must be smaller than the image (",
                img.width, "x", img.height, ")");
  SEMIFER_CHECK(top >= 0 && left >= 0 && top <= 2 * pad && left <= 2 * pad,
                "crop offset (", top, ", ", left, ") outside the padding ",
                pad);
  Image out(img.width, img.height);
  std::vector<int> xs(img.width);
  for (int x = 0; x < img.width; ++x) {
    const int sx = reflect(x + left - pad, img.width);  // in the flipped image
    xs[x] = (flip ? img.width - 1 - sx : sx) * 3;
  }
  // Without a flip the middle of each row is one contiguous run.
  const int run_begin = std::max(0, pad - left);
  const int run_end = std::min(img.width, img.width + pad - left);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = img.pixel(0, reflect(y + top - pad, img.height));
    uint8_t* dst = out.pixel(0, y);
    if (!flip) {
      for (int x = 0; x < run_begin; ++x)
        std::copy(row + xs[x], row + xs[x] + 3, dst + 3 * x);
      std::copy(row + xs[run_begin], row + xs[run_end - 1] + 3,
                dst + 3 * run_begin);
      for (int x = run_end; x < img.width; ++x) {
        std::copy(row + xs[x], row + xs[x] + 3, dst + 3 * x);
      }
      continue;
    }
    for (int x = 0; x < img.width; ++x, dst += 3) {
      const uint8_t* s = row + xs[x];
      dst[0] = s[0];
      dst[1] = s[1];
      dst[2] = s[2];
    }
  }
  return out;
}

Image adjust_brightness(const Image& img, float factor) {
  SEMIFER_CHECK(factor >= 0, "brightness factor ", factor, " is negative");
  detail::LazyImage out(img);
  out.compose(detail::brightness_lut(factor));
  return out.materialize();
}

Image adjust_contrast(const Image& img, float factor) {
  SEMIFER_CHECK(factor >= 0, "contrast factor ", factor, " is negative");
  detail::LazyImage out(img);
  out.compose(detail::contrast_lut(factor, out.gray_mean()));
  return out.materialize();
}

Image adjust_saturation(const Image& img, float factor) {
  SEMIFER_CHECK(factor >= 0, "saturation factor ", factor, " is negative");
  detail::LazyImage out(img);
  out.saturate(factor);
  return out.materialize();
}

Image adjust_sharpness(const Image& img, float factor) {
  SEMIFER_CHECK(factor >= 0, "sharpness factor ", factor, " is negative");
  if (img.width <= 2 || img.height <= 2) return img;
  Image out = img;  // borders: blend of a pixel with itself
  const int w = img.width;
  const float rest = 1.0f - factor;
  for (int y = 1; y < img.height - 1; ++y) {
    const uint8_t* up = img.pixel(0, y - 1);
    const uint8_t* mid = img.pixel(0, y);
    const uint8_t* down = img.pixel(0, y + 1);
    uint8_t* dst = out.pixel(0, y);
    for (int i = 3; i < (w - 1) * 3; ++i) {
      const float s =
          static_cast<float>(up[i - 3] + up[i] + up[i + 3] + mid[i - 3] +
                             mid[i + 3] + down[i - 3] + down[i] + down[i + 3]) +
          5.0f * mid[i];
      const float blurred = round_even(s / 13.0f);
      dst[i] = detail::to_u8(factor * mid[i] + rest * blurred);
    }
  }
  return out;
}

Image autocontrast(const Image& img) {
  detail::LazyImage out(img);
  int64_t hist[3][256];
  out.histograms(hist);
  out.compose(detail::autocontrast_lut(hist));
  return out.materialize();
}

Image equalize(const Image& img) {
  detail::LazyImage out(img);
  int64_t hist[3][256];
  out.histograms(hist);
  out.compose(detail::equalize_lut(hist));
  return out.materialize();
}

Image posterize(const Image& img, int bits) {
  SEMIFER_CHECK(bits >= 0 && bits <= 8, "posterize bits ", bits,
                " not in 0..8");
  detail::LazyImage out(img);
  out.compose(detail::posterize_lut(bits));
  return out.materialize();
}

Image solarize(const Image& img, float threshold) {
  detail::LazyImage out(img);
  out.compose(detail::solarize_lut(threshold));
  return out.materialize();
}

std::array<float, 6> affine_matrix(int width, int height, float angle,
                                   float translate_x, float translate_y,
                                   float scale, float shear_x, float shear_y,
                                   bool has_center, float center_x,
                                   float center_y) {
  const double cx = has_center ? center_x - width * 0.5 : 0.0;
  const double cy = has_center ? center_y - height * 0.5 : 0.0;
  const auto md = inverse_affine(cx, cy, angle, translate_x, translate_y, scale,
                                 shear_x, shear_y);
  // torchvision builds the sampling grid in float32; so do we.
  std::array<float, 6> m;
  for (int i = 0; i < 6; ++i) m[i] = static_cast<float>(md[i]);
  return m;
}

Image warp_nearest(const Image& img, const std::array<float, 6>& m,
                   std::array<uint8_t, 3> fill) {
  const int w = img.width, h = img.height;
  // grid_sample's source pixel for output (i, j) is
  // ((g + 1) * w - 1) / 2 with g = (x m0 + y m1 + m2) / (w / 2), i.e.
  // x m0 + y m1 + m2 + w / 2 - 1/2: linear in j, so it is stepped along the
  // row. (It can differ from torch's float evaluation only at exact .5 ties.)
  // augment/batched_ops.cpp computes the row start alike but the positions
  // along the row in closed form (one kernel), so it may differ at ties.
  Image out(w, h);
  for (int i = 0; i < h; ++i) {
    const float y = -h * 0.5f + 0.5f + i;
    const float x0 = -w * 0.5f + 0.5f;
    float sx = x0 * m[0] + y * m[1] + m[2] + 0.5f * w - 0.5f;
    float sy = x0 * m[3] + y * m[4] + m[5] + 0.5f * h - 0.5f;
    uint8_t* dst = out.pixel(0, i);
    for (int j = 0; j < w; ++j, dst += 3, sx += m[0], sy += m[3]) {
      // Nearest, rounding half to even as grid_sample does.
      const float ix = round_even(sx);
      const float iy = round_even(sy);
      if (ix >= 0 && ix < w && iy >= 0 && iy < h) {
        const uint8_t* src =
            img.pixel(static_cast<int>(ix), static_cast<int>(iy));
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
      } else {
        dst[0] = fill[0];
        dst[1] = fill[1];
        dst[2] = fill[2];
      }
    }
  }
  return out;
}

Image affine(const Image& img, float angle, float translate_x,
             float translate_y, float scale, float shear_x, float shear_y,
             bool has_center, float center_x, float center_y,
             std::array<uint8_t, 3> fill) {
  return warp_nearest(
      img,
      affine_matrix(img.width, img.height, angle, translate_x, translate_y,
                    scale, shear_x, shear_y, has_center, center_x, center_y),
      fill);
}

Image rotate(const Image& img, float angle, std::array<uint8_t, 3> fill) {
  // F.rotate passes -angle to the affine matrix (its rotation sense differs).
  return affine(img, -angle, 0, 0, 1, 0, 0, false, 0, 0, fill);
}

void fill_box(Image& img, int x0, int y0, int x1, int y1,
              std::array<uint8_t, 3> fill) {
  x0 = std::max(0, x0);
  y0 = std::max(0, y0);
  x1 = std::min(img.width, x1);
  y1 = std::min(img.height, y1);
  for (int y = y0; y < y1; ++y) {
    uint8_t* p = img.pixel(x0, y);
    for (int x = x0; x < x1; ++x, p += 3) {
      p[0] = fill[0];
      p[1] = fill[1];
      p[2] = fill[2];
    }
  }
}

void normalize_into(const Image& img, const std::array<float, 3>& mean,
                    const std::array<float, 3>& std, float* out) {
  detail::LazyImage(img).normalize_into(mean, std, out);
}

}  // namespace semifer::augment
