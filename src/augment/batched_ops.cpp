#include "batched_ops.h"

#include <ATen/ATen.h>

// Parity with the CPU kernels (functional.cpp, lazy_image.cpp) is kept by
// doing the same arithmetic: integer steps in integer tensors, float steps as
// the same float32 operations in the same order, one ATen operation per C++
// operator, so that no backend can fuse or reorder them. Every ATen call
// here exists on every device; nothing is CUDA-specific.
namespace semifer::augment::detail {

using at::Tensor;

namespace {

// x / d with d as a one-element tensor on x's device: CUDA turns division by
// a CPU scalar into multiplication by its reciprocal, which can differ from
// the CPU kernels' true division in the last bit.
Tensor divide(const Tensor& x, double d) {
  return x.div(at::full({1}, d, x.options()));
}

// torchvision's `.clamp(0, 255).to(uint8)` after a blend: truncation.
Tensor to_u8(const Tensor& v) { return v.clamp(0, 255).to(at::kByte); }

// rgb_to_grayscale of [M, 3, H, W] uint8, truncated, as float [M, 1, H, W]:
// (0.2989 r + 0.587 g) + 0.114 b in float32, as lazy_image.cpp's tables.
Tensor gray(const Tensor& x) {
  const Tensor f = x.to(at::kFloat);
  const Tensor g = f.select(1, 0)
                       .mul(0.2989f)
                       .add(f.select(1, 1).mul(0.587f))
                       .add(f.select(1, 2).mul(0.114f));
  return g.trunc().unsqueeze(1);
}

}  // namespace

// Per-sample values [M] broadcast against [M, C, H, W].
Tensor per_sample(const Tensor& v) { return v.reshape({-1, 1, 1, 1}); }

// Blends with a per-sample target: kind 0 black (brightness), 1 the mean of
// the gray image (contrast), 2 the gray image (saturation);
// factor * x + (1 - factor) * target, clamped and truncated.
Tensor blend(const Tensor& x, const Tensor& kind, const Tensor& factor) {
  const Tensor g = gray(x);
  const int64_t m = x.size(0);
  // LazyImage::gray_mean: an int64 sum, divided in double, then float.
  const Tensor mean =
      divide(g.reshape({m, -1}).to(at::kLong).sum(1).to(at::kDouble),
             static_cast<double>(g[0].numel()))
          .to(at::kFloat);
  const Tensor k = per_sample(kind);
  const Tensor target = at::where(
      k == 2, g,
      at::where(k == 1, per_sample(mean), at::zeros_like(per_sample(mean))));
  const Tensor f = per_sample(factor);
  return to_u8(f.mul(x.to(at::kFloat)).add((1 - f).mul(target)));
}

// F.adjust_sharpness: 3x3 blur [1 1 1; 1 5 1; 1 1 1] / 13, rounded, border
// kept. The sums are exact integers: shifted slices rather than a
// convolution, which cuDNN may compute with inexact Winograd or FFT
// transforms.
Tensor sharpness(const Tensor& x, const Tensor& factor) {
  const int64_t h = x.size(2), w = x.size(3);
  if (h <= 2 || w <= 2) return x;
  const Tensor xi = x.to(at::kInt);
  auto at_shift = [&](int64_t dy, int64_t dx) {
    return xi.narrow(2, 1 + dy, h - 2).narrow(3, 1 + dx, w - 2);
  };
  Tensor sum = at_shift(0, 0).mul(5);
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      if (dy != 0 || dx != 0) sum = sum.add(at_shift(dy, dx));
    }
  }
  const Tensor blurred = divide(sum.to(at::kFloat), 13.0).round();
  const Tensor f = per_sample(factor);
  const Tensor mid = at_shift(0, 0).to(at::kFloat);
  Tensor out = x.clone();
  out.narrow(2, 1, h - 2)
      .narrow(3, 1, w - 2)
      .copy_(to_u8(f.mul(mid).add((1 - f).mul(blurred))));
  return out;
}

// F.posterize: keep the top int(magnitude) bits.
Tensor posterize(const Tensor& x, const Tensor& magnitude) {
  const Tensor bits = magnitude.to(at::kLong);
  const Tensor mask =
      at::bitwise_left_shift(at::full_like(bits, 0xff), 8 - bits)
          .bitwise_and(0xff)
          .to(at::kByte);
  return x.bitwise_and(per_sample(mask));
}

// F.solarize: invert values >= threshold.
Tensor solarize(const Tensor& x, const Tensor& threshold) {
  return at::where(x.to(at::kFloat) >= per_sample(threshold), 255 - x, x);
}

// F.autocontrast: per sample and channel, stretch [min, max] to [0, 255];
// flat channels stay as they are.
Tensor autocontrast(const Tensor& x) {
  const Tensor lo = x.amin({2, 3}, true).to(at::kFloat);
  const Tensor hi = x.amax({2, 3}, true).to(at::kFloat);
  const Tensor flat = hi <= lo;
  const Tensor range = at::where(flat, at::ones_like(lo), hi - lo);
  const Tensor scale =
      at::where(flat, at::ones_like(lo), at::full_like(lo, 255.0f).div(range));
  const Tensor minimum = at::where(flat, at::zeros_like(lo), lo);
  return to_u8(x.to(at::kFloat).sub(minimum).mul(scale));
}

// F.equalize with PIL's algorithm, from per sample-channel histograms.
Tensor equalize(const Tensor& x) {
  const int64_t m = x.size(0), h = x.size(2), w = x.size(3);
  const Tensor values = x.reshape({m * 3, h * w}).to(at::kLong);
  // One histogram of 256 bins per row, as offset bins of a flat one: a 1-D
  // scatter_add is deterministic on CUDA (train.deterministic).
  const Tensor bins =
      values.add(at::arange(m * 3, values.options()).mul(256).unsqueeze(1));
  const Tensor hist = at::zeros({m * 3 * 256}, values.options())
                          .scatter_add_(0, bins.reshape({-1}),
                                        at::ones_like(bins).reshape({-1}))
                          .view({m * 3, 256});
  // The step leaves out the last non-empty bin, i.e. the maximum.
  const Tensor last = std::get<0>(values.max(1, true));
  const Tensor total = (h * w) - hist.gather(1, last);
  const Tensor step = at::div(total, 255, "floor");
  const Tensor empty = step == 0;
  const Tensor safe = at::where(empty, at::ones_like(step), step);
  const Tensor cum = hist.cumsum(1).narrow(1, 0, 255);
  const Tensor tail =
      at::div(cum + at::div(step, 2, "floor"), safe, "floor").clamp_max(255);
  Tensor lut = at::cat({at::zeros_like(step), tail}, 1);
  lut = at::where(empty, at::arange(256, values.options()).unsqueeze(0), lut);
  return lut.gather(1, values).to(at::kByte).view({m, 3, h, w});
}

// Nearest-neighbour sampling through per-sample inverse matrices [M, 6], as
// functional.cpp's warp_nearest. The start of each row is the CPU kernel's
// float expression; along the row the CPU kernel steps the position by m0
// (m3), here it is start + j * m0 for every pixel at once: a product where
// the CPU has a running sum, equal to it but for the last bits, so a pixel
// differs only where a source coordinate lies within float rounding of a
// pixel boundary. Out-of-image positions read a border of `fill` around
// the image, so that one gather does it all. Images are square (S x S).
Tensor warp(const Tensor& x, const Tensor& matrix, uint8_t fill) {
  const int64_t m = x.size(0), s = x.size(2);
  TORCH_INTERNAL_ASSERT(x.size(3) == s, "warp: square images only");
  const auto fopt = x.options().dtype(at::kFloat);
  const float x0 = -s * 0.5f + 0.5f;
  // [M, 2, 3]: the rows (m0, m1, m2) and (m3, m4, m5); sx and sy together.
  const Tensor coef = matrix.view({m, 2, 3, 1});
  const Tensor y = at::arange(s, fopt).add(-s * 0.5f + 0.5f);  // [S]
  const Tensor start = coef.select(2, 0)
                           .mul(x0)
                           .add(y.mul(coef.select(2, 1)))
                           .add(coef.select(2, 2))
                           .add(0.5f * s)
                           .sub(0.5f);  // [M, 2, S]: row starts
  const Tensor along =
      at::arange(s, fopt).mul(coef.select(2, 0)).unsqueeze(2);  // [M, 2, 1, S]
  // [M, 2, S, S]; nearest, rounding half to even as grid_sample does; -1
  // and S land on the fill border.
  const Tensor pos = start.unsqueeze(3).add(along).round().clamp(-1, s).add(1);
  const int64_t side = s + 2;
  const Tensor index = pos.select(1, 1)
                           .mul(static_cast<float>(side))
                           .add(pos.select(1, 0))
                           .to(at::kLong)
                           .view({m, 1, s * s})
                           .expand({m, 3, s * s});
  return at::constant_pad_nd(x, {1, 1, 1, 1}, fill)
      .view({m, 3, side * side})
      .gather(2, index)
      .view({m, 3, s, s});
}

namespace {

// Reflection of indices [.., n) - pad for F.pad(padding_mode="reflect").
Tensor reflect(const Tensor& i, int64_t n) {
  return at::where(i < 0, -i, at::where(i >= n, 2 * (n - 1) - i, i));
}

}  // namespace

Tensor pad_crop(const Tensor& images, const Tensor& image, const Tensor& flip,
                const Tensor& top, const Tensor& left, int pad) {
  const int64_t n = flip.size(0), s = images.size(1);
  const Tensor r = at::arange(s, top.options()).unsqueeze(0);
  const Tensor rows = reflect(r + top.unsqueeze(1) - pad, s);
  Tensor cols = reflect(r + left.unsqueeze(1) - pad, s);
  cols = at::where(flip.unsqueeze(1), (s - 1) - cols, cols);
  // Offsets into the flat [M, S, S, 3] images, in [N, 3, S, S] order.
  Tensor pixel = rows.mul(s * 3).unsqueeze(2).add(cols.mul(3).unsqueeze(1));
  if (image.defined())
    pixel = pixel.add(image.mul(s * s * 3).view({n, 1, 1}));
  else
    pixel =
        pixel.add(at::arange(n, top.options()).mul(s * s * 3).view({n, 1, 1}));
  const Tensor index =
      pixel.unsqueeze(1).add(at::arange(3, top.options()).view({1, 3, 1, 1}));
  return images.reshape({-1}).gather(0, index.view({-1})).view({n, 3, s, s});
}

Tensor normalize(const Tensor& x, const std::array<float, 3>& mean,
                 const std::array<float, 3>& std) {
  // Filled on the device: a copy from the host would block it.
  auto channel_values = [&](const std::array<float, 3>& v) {
    Tensor t = at::full({1, 3, 1, 1}, v[0], x.options().dtype(at::kFloat));
    t.select(1, 1).fill_(v[1]);
    t.select(1, 2).fill_(v[2]);
    return t;
  };
  return divide(x.to(at::kFloat), 255.0)
      .sub(channel_values(mean))
      .div(channel_values(std));
}

}  // namespace semifer::augment::detail
