#include "lazy_image.h"

#include <algorithm>

namespace semifer::augment::detail {

namespace {

struct GrayTables {
  float r[256], g[256], b[256];
  GrayTables() {
    for (int v = 0; v < 256; ++v) {
      r[v] = 0.2989f * v;
      g[v] = 0.587f * v;
      b[v] = 0.114f * v;
    }
  }
};
const GrayTables& gray_tables() {
  static const GrayTables tables;
  return tables;
}

inline uint8_t to_u8_fast(float v) {
  const int i = static_cast<int>(v);
  return static_cast<uint8_t>(i < 0 ? 0 : (i > 255 ? 255 : i));
}

Lut same_for_all(const std::array<uint8_t, 256>& t) { return {t, t, t}; }

}  // namespace

Lut brightness_lut(float factor) {
  std::array<uint8_t, 256> t;
  // _blend(img, zeros, f): f * x + (1 - f) * 0, clamped, truncated.
  for (int v = 0; v < 256; ++v)
    t[v] = to_u8(factor * v + (1.0f - factor) * 0.0f);
  return same_for_all(t);
}

Lut contrast_lut(float factor, float gray_mean) {
  std::array<uint8_t, 256> t;
  for (int v = 0; v < 256; ++v)
    t[v] = to_u8(factor * v + (1.0f - factor) * gray_mean);
  return same_for_all(t);
}

Lut posterize_lut(int bits) {
  const auto mask = static_cast<uint8_t>((0xff << (8 - bits)) & 0xff);
  std::array<uint8_t, 256> t;
  for (int v = 0; v < 256; ++v) t[v] = static_cast<uint8_t>(v & mask);
  return same_for_all(t);
}

Lut solarize_lut(float threshold) {
  std::array<uint8_t, 256> t;
  for (int v = 0; v < 256; ++v) {
    t[v] =
        static_cast<uint8_t>(static_cast<float>(v) >= threshold ? 255 - v : v);
  }
  return same_for_all(t);
}

Lut autocontrast_lut(const int64_t hist[3][256]) {
  Lut lut;
  for (int c = 0; c < 3; ++c) {
    int lo = 0, hi = 255;
    while (lo < 255 && hist[c][lo] == 0) ++lo;
    while (hi > 0 && hist[c][hi] == 0) --hi;
    float minimum = static_cast<float>(lo);
    float scale = 255.0f / static_cast<float>(hi - lo);
    if (hi <= lo) {  // a flat channel: torchvision leaves it as it is
      minimum = 0;
      scale = 1;
    }
    for (int v = 0; v < 256; ++v)
      lut[c][v] = to_u8((static_cast<float>(v) - minimum) * scale);
  }
  return lut;
}

Lut equalize_lut(const int64_t hist[3][256]) {
  Lut lut;
  for (int c = 0; c < 3; ++c) {
    // PIL's / torchvision's: step = (sum of non-zero bins except the last
    // non-zero one) / 255; lut = (cumsum + step / 2) / step, shifted by one.
    int last = 255;
    while (last > 0 && hist[c][last] == 0) --last;
    int64_t total = 0;
    for (int v = 0; v < last; ++v) total += hist[c][v];
    const int64_t step = total / 255;
    if (step == 0) {
      for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<uint8_t>(v);
      continue;
    }
    int64_t cum = 0;
    lut[c][0] = 0;
    for (int v = 0; v < 255; ++v) {
      cum += hist[c][v];
      lut[c][v + 1] =
          static_cast<uint8_t>(std::min<int64_t>(255, (cum + step / 2) / step));
    }
  }
  return lut;
}

uint8_t gray_value(uint8_t r, uint8_t g, uint8_t b) {
  const GrayTables& t = gray_tables();
  return static_cast<uint8_t>(t.r[r] + t.g[g] + t.b[b]);
}

LazyImage::LazyImage(io::Image base) : base_(std::move(base)) {
  for (auto& channel : lut_) {
    for (int v = 0; v < 256; ++v) channel[v] = static_cast<uint8_t>(v);
  }
}

void LazyImage::compose(const Lut& f) {
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) lut_[c][v] = f[c][lut_[c][v]];
  }
  identity_ = false;
}

const io::Image& LazyImage::materialize() {
  if (identity_) return base_;
  const size_t n = static_cast<size_t>(base_.width) * base_.height;
  uint8_t* p = base_.data.data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    p[0] = lut_[0][p[0]];
    p[1] = lut_[1][p[1]];
    p[2] = lut_[2][p[2]];
  }
  for (auto& channel : lut_) {
    for (int v = 0; v < 256; ++v) channel[v] = static_cast<uint8_t>(v);
  }
  identity_ = true;
  return base_;
}

void LazyImage::histograms(int64_t hist[3][256]) const {
  int64_t raw[3][256] = {};
  const size_t n = static_cast<size_t>(base_.width) * base_.height;
  const uint8_t* p = base_.data.data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    ++raw[0][p[0]];
    ++raw[1][p[1]];
    ++raw[2][p[2]];
  }
  for (int c = 0; c < 3; ++c) {
    std::fill(hist[c], hist[c] + 256, 0);
    for (int v = 0; v < 256; ++v) hist[c][lut_[c][v]] += raw[c][v];
  }
}

float LazyImage::gray_mean() const {
  const GrayTables& t = gray_tables();
  const size_t n = static_cast<size_t>(base_.width) * base_.height;
  const uint8_t* p = base_.data.data();
  int64_t sum = 0;
  for (size_t i = 0; i < n; ++i, p += 3) {
    sum += static_cast<uint8_t>(t.r[lut_[0][p[0]]] + t.g[lut_[1][p[1]]] +
                                t.b[lut_[2][p[2]]]);
  }
  return static_cast<float>(static_cast<double>(sum) / static_cast<double>(n));
}

void LazyImage::saturate(float factor) {
  float scaled[256], rest[256];
  for (int v = 0; v < 256; ++v) {
    scaled[v] = factor * v;
    rest[v] = (1.0f - factor) * v;
  }
  const GrayTables& t = gray_tables();
  const size_t n = static_cast<size_t>(base_.width) * base_.height;
  uint8_t* p = base_.data.data();
  // For factor <= 1 the blend is a convex combination of values in
  // [0, 255]: no clamp is needed, only the truncation.
  const bool convex = factor <= 1.0f;
  for (size_t i = 0; i < n; ++i, p += 3) {
    const uint8_t r = lut_[0][p[0]], g = lut_[1][p[1]], b = lut_[2][p[2]];
    const float k = rest[static_cast<uint8_t>(t.r[r] + t.g[g] + t.b[b])];
    if (convex) {
      p[0] = static_cast<uint8_t>(static_cast<int>(scaled[r] + k));
      p[1] = static_cast<uint8_t>(static_cast<int>(scaled[g] + k));
      p[2] = static_cast<uint8_t>(static_cast<int>(scaled[b] + k));
    } else {
      p[0] = to_u8_fast(scaled[r] + k);
      p[1] = to_u8_fast(scaled[g] + k);
      p[2] = to_u8_fast(scaled[b] + k);
    }
  }
  for (auto& channel : lut_) {
    for (int v = 0; v < 256; ++v) channel[v] = static_cast<uint8_t>(v);
  }
  identity_ = true;
}

void LazyImage::normalize_into(const std::array<float, 3>& mean,
                               const std::array<float, 3>& std,
                               float* out) const {
  float table[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      table[c][v] =
          (static_cast<float>(lut_[c][v]) / 255.0f - mean[c]) / std[c];
    }
  }
  const size_t n = static_cast<size_t>(base_.width) * base_.height;
  float* r = out;
  float* g = out + n;
  float* b = out + 2 * n;
  const uint8_t* p = base_.data.data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    r[i] = table[0][p[0]];
    g[i] = table[1][p[1]];
    b[i] = table[2][p[2]];
  }
}

}  // namespace semifer::augment::detail
