#include "semifer/augment/views.h"

#include <algorithm>
#include <cmath>

#include "lazy_image.h"
#include "semifer/augment/functional.h"
#include "semifer/util/error.h"

namespace semifer::augment {

using io::Image;

const char* op_name(Op op) {
  static const char* kNames[kNumOps] = {
      "Identity",  "ShearX",     "ShearY",       "TranslateX", "TranslateY",
      "Rotate",    "Brightness", "Color",        "Contrast",   "Sharpness",
      "Posterize", "Solarize",   "AutoContrast", "Equalize"};
  return kNames[static_cast<int>(op)];
}

float op_magnitude(Op op, int index, int bins, int size, bool* signed_op) {
  SEMIFER_CHECK(bins >= 2 && index >= 0 && index < bins,
                "RandAugment magnitude ", index, " must lie in 0..", bins - 1);
  // torch.linspace(0, max, bins)[index]
  const float t = static_cast<float>(index) / static_cast<float>(bins - 1);
  bool is_signed = true;
  float m = 0;
  switch (op) {
    case Op::kShearX:
    case Op::kShearY:
      m = 0.3f * t;
      break;
    case Op::kTranslateX:
    case Op::kTranslateY:
      m = 150.0f / 331.0f * size * t;
      break;
    case Op::kRotate:
      m = 30.0f * t;
      break;
    case Op::kBrightness:
    case Op::kColor:
    case Op::kContrast:
    case Op::kSharpness:
      m = 0.9f * t;
      break;
    case Op::kPosterize:
      is_signed = false;
      m = 8.0f -
          std::nearbyint(static_cast<float>(index) / ((bins - 1) / 4.0f));
      break;
    case Op::kSolarize:
      is_signed = false;
      m = 255.0f - 255.0f * t;
      break;
    case Op::kIdentity:
    case Op::kAutoContrast:
    case Op::kEqualize:
      is_signed = false;
      break;
  }
  if (signed_op) *signed_op = is_signed;
  return m;
}

bool op_affine_matrix(Op op, float magnitude, int width, int height,
                      std::array<float, 6>* matrix) {
  const float kDeg = 180.0f / 3.14159265358979323846f;
  switch (op) {
    case Op::kShearX:
      *matrix = affine_matrix(width, height, 0, 0, 0, 1,
                              std::atan(magnitude) * kDeg, 0, true, 0, 0);
      return true;
    case Op::kShearY:
      *matrix = affine_matrix(width, height, 0, 0, 0, 1, 0,
                              std::atan(magnitude) * kDeg, true, 0, 0);
      return true;
    case Op::kTranslateX:
      *matrix = affine_matrix(width, height, 0, std::trunc(magnitude), 0, 1, 0,
                              0, false, 0, 0);
      return true;
    case Op::kTranslateY:
      *matrix = affine_matrix(width, height, 0, 0, std::trunc(magnitude), 1, 0,
                              0, false, 0, 0);
      return true;
    case Op::kRotate:
      // F.rotate passes -angle to the affine matrix (as rotate() does).
      *matrix =
          affine_matrix(width, height, -magnitude, 0, 0, 1, 0, 0, false, 0, 0);
      return true;
    default:
      return false;
  }
}

Image apply_op(const Image& img, Op op, float magnitude, uint8_t fill) {
  const std::array<uint8_t, 3> f = {fill, fill, fill};
  std::array<float, 6> m;
  if (op_affine_matrix(op, magnitude, img.width, img.height, &m))
    return warp_nearest(img, m, f);
  switch (op) {
    case Op::kIdentity:
      return img;
    case Op::kBrightness:
      return adjust_brightness(img, 1.0f + magnitude);
    case Op::kColor:
      return adjust_saturation(img, 1.0f + magnitude);
    case Op::kContrast:
      return adjust_contrast(img, 1.0f + magnitude);
    case Op::kSharpness:
      return adjust_sharpness(img, 1.0f + magnitude);
    case Op::kPosterize:
      return posterize(img, static_cast<int>(magnitude));
    case Op::kSolarize:
      return solarize(img, magnitude);
    case Op::kAutoContrast:
      return autocontrast(img);
    case Op::kEqualize:
      return equalize(img);
    default:
      break;
  }
  fail("unknown augmentation op ", static_cast<int>(op));
}

namespace {

void plan_geometry(const AugmentConfig& c, util::Generator& gen, ViewPlan& p) {
  p.flip = c.flip_p > 0 && gen.bernoulli(c.flip_p);
  const int pad = c.pad();
  p.top = pad > 0 ? static_cast<int>(gen.uniform_int(0, 2 * pad)) : 0;
  p.left = pad > 0 ? static_cast<int>(gen.uniform_int(0, 2 * pad)) : 0;
}

}  // namespace

ViewPlan plan_weak(const AugmentConfig& c, util::Generator& gen) {
  ViewPlan p;
  plan_geometry(c, gen, p);
  const float amount[3] = {c.brightness, c.contrast, c.saturation};
  p.jitter = amount[0] > 0 || amount[1] > 0 || amount[2] > 0;
  if (p.jitter) {
    std::vector<int> order = {0, 1, 2};
    gen.shuffle(order);
    for (int k = 0; k < 3; ++k) {
      p.jitter_order[k] = order[k];
      p.jitter_factor[k] =
          amount[k] > 0 ? static_cast<float>(gen.uniform(
                              std::max(0.0f, 1 - amount[k]), 1 + amount[k]))
                        : 1.0f;
    }
  }
  return p;
}

ViewPlan plan_strong(const AugmentConfig& c, util::Generator& gen) {
  ViewPlan p;
  plan_geometry(c, gen, p);
  for (int k = 0; k < c.randaugment_n; ++k) {
    const Op op = static_cast<Op>(gen.below(kNumOps));
    bool is_signed = false;
    float m = op_magnitude(op, c.randaugment_magnitude, c.randaugment_bins,
                           c.size, &is_signed);
    if (is_signed && gen.bernoulli(0.5)) m = -m;
    p.ops.push_back({op, m});
  }
  if (c.cutout > 0) {
    // FixMatch's CutoutAbs: a square of side v = U(0, cutout) * size around
    // a uniform centre, clipped to the image.
    const double v = gen.uniform(0, c.cutout) * c.size;
    const double x0 = gen.uniform(0, c.size), y0 = gen.uniform(0, c.size);
    p.cut_x0 = static_cast<int>(std::max(0.0, x0 - v / 2));
    p.cut_y0 = static_cast<int>(std::max(0.0, y0 - v / 2));
    p.cut_x1 = static_cast<int>(std::min<double>(c.size, p.cut_x0 + v));
    p.cut_y1 = static_cast<int>(std::min<double>(c.size, p.cut_y0 + v));
  }
  return p;
}

Image apply_plan(const Image& resized, const ViewPlan& p,
                 const AugmentConfig& c) {
  Image img = c.pad() > 0
                  ? pad_reflect_crop(resized, c.pad(), p.top, p.left, p.flip)
              : p.flip ? hflip(resized)
                       : resized;
  if (p.jitter) {
    for (int k : p.jitter_order) {
      const float f = p.jitter_factor[k];
      if (f == 1.0f) continue;
      img = k == 0   ? adjust_brightness(img, f)
            : k == 1 ? adjust_contrast(img, f)
                     : adjust_saturation(img, f);
    }
  }
  for (const auto& op : p.ops)
    img = apply_op(img, op.op, op.magnitude, c.affine_fill);
  if (p.cut_x1 > p.cut_x0 && p.cut_y1 > p.cut_y0) {
    fill_box(img, p.cut_x0, p.cut_y0, p.cut_x1, p.cut_y1,
             {c.cutout_fill, c.cutout_fill, c.cutout_fill});
  }
  return img;
}

void render_view(const Image& resized, const ViewPlan& p,
                 const AugmentConfig& c, float* out) {
  // The fused CPU path: value-wise operations compose into one lookup
  // table that the normalisation applies, so a typical view takes three or
  // four passes over the pixels instead of one per operation. Equal, bit
  // for bit, to normalize_into(apply_plan(...)) (tests/augment/views_test).
  detail::LazyImage img(
      c.pad() > 0 ? pad_reflect_crop(resized, c.pad(), p.top, p.left, p.flip)
      : p.flip    ? hflip(resized)
                  : resized);
  auto value_wise = [&](Op op, float m) {
    int64_t hist[3][256];
    switch (op) {
      case Op::kIdentity:
        return true;
      case Op::kBrightness:
        img.compose(detail::brightness_lut(1.0f + m));
        return true;
      case Op::kContrast:
        img.compose(detail::contrast_lut(1.0f + m, img.gray_mean()));
        return true;
      case Op::kColor:
        img.saturate(1.0f + m);
        return true;
      case Op::kPosterize:
        img.compose(detail::posterize_lut(static_cast<int>(m)));
        return true;
      case Op::kSolarize:
        img.compose(detail::solarize_lut(m));
        return true;
      case Op::kAutoContrast:
        img.histograms(hist);
        img.compose(detail::autocontrast_lut(hist));
        return true;
      case Op::kEqualize:
        img.histograms(hist);
        img.compose(detail::equalize_lut(hist));
        return true;
      default:
        return false;
    }
  };
  if (p.jitter) {
    static const Op kJitterOps[3] = {Op::kBrightness, Op::kContrast,
                                     Op::kColor};
    for (int k : p.jitter_order) {
      if (p.jitter_factor[k] != 1.0f)
        value_wise(kJitterOps[k], p.jitter_factor[k] - 1.0f);
    }
  }
  for (const auto& op : p.ops) {
    if (value_wise(op.op, op.magnitude)) continue;
    // Geometric ops and sharpness need the pixels themselves.
    img = detail::LazyImage(
        apply_op(img.materialize(), op.op, op.magnitude, c.affine_fill));
  }
  img.normalize_into(c.mean, c.std, out);
  if (p.cut_x1 > p.cut_x0 && p.cut_y1 > p.cut_y0) {
    // Cutout comes last, so it can write normalised gray into the output.
    const size_t n = static_cast<size_t>(img.width()) * img.height();
    for (int ch = 0; ch < 3; ++ch) {
      const float v =
          (static_cast<float>(c.cutout_fill) / 255.0f - c.mean[ch]) / c.std[ch];
      for (int y = p.cut_y0; y < p.cut_y1; ++y) {
        float* row = out + ch * n + static_cast<size_t>(y) * img.width();
        std::fill(row + p.cut_x0, row + p.cut_x1, v);
      }
    }
  }
}

void draw_plans(const AugmentConfig& c, uint64_t seed, int64_t epoch,
                int64_t index, ViewPlan* weak, ViewPlan* strong) {
  util::Generator gen(
      {seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)});
  *weak = plan_weak(c, gen);
  if (strong) *strong = plan_strong(c, gen);
}

void make_views(const Image& image, const AugmentConfig& c, uint64_t seed,
                int64_t epoch, int64_t index, float* weak, float* strong) {
  const Image resized = resize(image, c.size, c.size);
  ViewPlan wp, sp;
  draw_plans(c, seed, epoch, index, &wp, strong ? &sp : nullptr);
  render_view(resized, wp, c, weak);
  if (strong) render_view(resized, sp, c, strong);
}

}  // namespace semifer::augment
