#include "semifer/augment/batched.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "batched_ops.h"
#include "semifer/augment/functional.h"
#include "semifer/util/error.h"

namespace semifer::augment {

using at::Tensor;

using namespace detail;

namespace {

// The blend target kind of Brightness (0), Contrast (1) and Color (2).
Tensor blend_kind(const Tensor& ops) {
  return at::where(ops == static_cast<int>(Op::kContrast), 1,
                   at::where(ops == static_cast<int>(Op::kColor), 2, 0));
}

// Applies RandAugment slot `k` to the samples whose op there is in `codes`.
void apply_group(Tensor& x, const PlanBatch& p, int64_t k,
                 const std::vector<Op>& codes, uint8_t fill) {
  const Tensor ops = p.ops.select(1, k);
  Tensor chosen = at::zeros_like(ops, ops.options().dtype(at::kBool));
  for (Op c : codes) chosen = chosen.logical_or(ops == static_cast<int>(c));
  const Tensor index = chosen.nonzero().view({-1});
  if (index.numel() == 0) return;
  const bool all = index.numel() == x.size(0);
  const Tensor sub = all ? x : x.index_select(0, index);
  auto pick = [&](const Tensor& t) {
    return all ? t : t.index_select(0, index);
  };
  const Tensor magnitude = pick(p.magnitudes.select(1, k));
  Tensor out;
  switch (codes.front()) {  // the first op names the group
    case Op::kShearX:       // and the other geometric ops
      out = warp(sub, pick(p.affine.select(1, k)), fill);
      break;
    case Op::kBrightness:  // Color, Contrast
      out = blend(sub, blend_kind(pick(ops)), 1 + magnitude);
      break;
    case Op::kSharpness:
      out = sharpness(sub, 1 + magnitude);
      break;
    case Op::kPosterize:
      out = posterize(sub, magnitude);
      break;
    case Op::kSolarize:
      out = solarize(sub, magnitude);
      break;
    case Op::kAutoContrast:
      out = autocontrast(sub);
      break;
    case Op::kEqualize:
      out = equalize(sub);
      break;
    default:
      TORCH_INTERNAL_ASSERT(false, "op ", static_cast<int>(codes.front()));
  }
  if (all) {
    x = out;
  } else {
    // index_put_ rather than index_copy_, which has no deterministic CUDA
    // kernel.
    x.index_put_({index}, out);
  }
}

}  // namespace

int64_t PlanBatch::count() const { return flip.defined() ? flip.size(0) : 0; }

PlanBatch PlanBatch::to(const c10::Device& device) const {
  PlanBatch out = *this;
  for (Tensor* t : {&out.flip, &out.top, &out.left, &out.jitter,
                    &out.jitter_order, &out.jitter_factor, &out.ops,
                    &out.magnitudes, &out.affine, &out.cutout}) {
    if (t->defined()) *t = t->to(device, /*non_blocking=*/true);
  }
  return out;
}

PlanBatch pack_plans(const std::vector<ViewPlan>& plans,
                     const AugmentConfig& config) {
  const auto n = static_cast<int64_t>(plans.size());
  int64_t k = 0;
  for (const auto& p : plans) k = std::max<int64_t>(k, p.ops.size());
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  PlanBatch b;
  b.size = config.size;
  b.flip = at::empty({n}, i64.dtype(at::kBool));
  b.top = at::empty({n}, i64);
  b.left = at::empty({n}, i64);
  b.jitter = at::empty({n}, i64.dtype(at::kBool));
  b.jitter_order = at::empty({n, 3}, i64);
  b.jitter_factor = at::empty({n, 3}, f32);
  b.ops = at::zeros({n, k}, i64);  // Identity is code 0
  b.magnitudes = at::zeros({n, k}, f32);
  b.affine = at::zeros({n, k, 6}, f32);
  b.cutout = at::empty({n, 4}, i64);
  bool* flip = b.flip.data_ptr<bool>();
  bool* jitter = b.jitter.data_ptr<bool>();
  int64_t* top = b.top.data_ptr<int64_t>();
  int64_t* left = b.left.data_ptr<int64_t>();
  int64_t* order = b.jitter_order.data_ptr<int64_t>();
  float* factor = b.jitter_factor.data_ptr<float>();
  int64_t* ops = b.ops.data_ptr<int64_t>();
  float* magnitude = b.magnitudes.data_ptr<float>();
  float* affine = b.affine.data_ptr<float>();
  int64_t* cut = b.cutout.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const ViewPlan& p = plans[static_cast<size_t>(i)];
    flip[i] = p.flip;
    top[i] = p.top;
    left[i] = p.left;
    jitter[i] = p.jitter;
    for (int j = 0; j < 3; ++j) {
      order[i * 3 + j] = p.jitter_order[j];
      factor[i * 3 + j] = p.jitter ? p.jitter_factor[j] : 1.0f;
    }
    for (size_t j = 0; j < p.ops.size(); ++j) {
      const int64_t at = i * k + static_cast<int64_t>(j);
      ops[at] = static_cast<int64_t>(p.ops[j].op);
      magnitude[at] = p.ops[j].magnitude;
      std::array<float, 6> m;
      if (op_affine_matrix(p.ops[j].op, p.ops[j].magnitude, config.size,
                           config.size, &m)) {
        std::memcpy(affine + at * 6, m.data(), sizeof(m));
      }
    }
    const int box[4] = {p.cut_x0, p.cut_y0, p.cut_x1, p.cut_y1};
    for (int j = 0; j < 4; ++j) cut[i * 4 + j] = box[j];
  }
  return b;
}

at::Tensor stack_images(const std::vector<io::Image>& images) {
  SEMIFER_CHECK(!images.empty(), "stack_images: no images");
  const int w = images[0].width, h = images[0].height;
  Tensor out =
      at::empty({static_cast<int64_t>(images.size()), h, w, 3}, at::kByte);
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (const auto& img : images) {
    SEMIFER_CHECK(img.width == w && img.height == h, "stack_images: a ",
                  img.width, "x", img.height, " image among ", w, "x", h,
                  " ones");
    std::memcpy(dst, img.data.data(), img.data.size());
    dst += img.data.size();
  }
  return out;
}

at::Tensor render_views(const at::Tensor& images, const PlanBatch& plans,
                        const AugmentConfig& config) {
  const int s = config.size;
  SEMIFER_CHECK(images.dim() == 4 && images.size(1) == s &&
                    images.size(2) == s && images.size(3) == 3 &&
                    images.scalar_type() == at::kByte,
                "render_views: images must be [N, ", s, ", ", s,
                ", 3] uint8, got ", images.sizes(), " ", images.scalar_type());
  SEMIFER_CHECK(plans.count() == images.size(0),
                "render_views: ", plans.count(), " plans for ", images.size(0),
                " images");
  SEMIFER_CHECK(plans.size == s, "render_views: plans packed for size ",
                plans.size, ", config size ", s);
  SEMIFER_CHECK(plans.ops.device() == images.device(),
                "render_views: plans on ", plans.ops.device(), ", images on ",
                images.device());
  const int64_t n = images.size(0);
  if (n == 0)
    return at::empty({0, 3, s, s}, images.options().dtype(at::kFloat));
  Tensor x = images.permute({0, 3, 1, 2}).contiguous();  // [N, 3, S, S]

  const int pad = config.pad();
  x = pad > 0 ? pad_crop(x, plans.flip, plans.top, plans.left, pad)
              : at::where(per_sample(plans.flip), x.flip(3), x);

  if (plans.jitter.any().item<bool>()) {
    // ColorJitter in each sample's order: at position j, sample i applies
    // op jitter_order[i, j] with its factor (1, the identity, where none).
    for (int64_t j = 0; j < 3; ++j) {
      const Tensor kind = plans.jitter_order.select(1, j);
      const Tensor factor =
          plans.jitter_factor.gather(1, kind.unsqueeze(1)).squeeze(1);
      x = blend(x, kind, factor);
    }
  }

  // RandAugment slot by slot; in a slot, the samples of each group of ops
  // at once (Identity: nothing to do).
  static const std::vector<std::vector<Op>> kGroups = {
      {Op::kShearX, Op::kShearY, Op::kTranslateX, Op::kTranslateY, Op::kRotate},
      {Op::kBrightness, Op::kColor, Op::kContrast},
      {Op::kSharpness},
      {Op::kPosterize},
      {Op::kSolarize},
      {Op::kAutoContrast},
      {Op::kEqualize}};
  for (int64_t k = 0; k < plans.ops.size(1); ++k) {
    for (const auto& codes : kGroups)
      apply_group(x, plans, k, codes, config.affine_fill);
  }

  // Cutout, a box per sample (empty boxes select nothing).
  const Tensor r = at::arange(s, plans.cutout.options());
  auto within = [&](int lo, int hi) {
    return (r.unsqueeze(0) >= plans.cutout.select(1, lo).unsqueeze(1))
        .logical_and(r.unsqueeze(0) < plans.cutout.select(1, hi).unsqueeze(1));
  };
  const Tensor box =
      within(1, 3).unsqueeze(2).logical_and(within(0, 2).unsqueeze(1));
  x = x.masked_fill(box.unsqueeze(1), static_cast<int>(config.cutout_fill));

  // F.normalize(F.to_tensor(x)): (x / 255 - mean) / std, in float32.
  return normalize(x, config.mean, config.std);
}

}  // namespace semifer::augment
