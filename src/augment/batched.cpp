#include "semifer/augment/batched.h"

#include <ATen/ATen.h>

#include <functional>

#include "batched_ops.h"
#include "semifer/util/error.h"

namespace semifer::augment {

using at::Tensor;

using namespace detail;

namespace {

// Applies one op family to the samples of `x` [N, 3, S, S] uint8 listed in
// `sample` [M] int64 (ascending), with the members' parameters. The counts
// are host integers: nothing here depends on tensor values.
void apply_to(Tensor& x, const Tensor& sample, int64_t count,
              const std::function<Tensor(const Tensor&)>& op) {
  // A group of the whole batch is 0 .. N-1 (ascending, no repeats).
  const bool all = count == x.size(0);
  const Tensor sub = all ? x : x.index_select(0, sample);
  const Tensor out = op(sub);
  if (all) {
    x = out;
  } else {
    // index_put_ rather than index_copy_, which has no deterministic CUDA
    // kernel.
    x.index_put_({sample}, out);
  }
}

void apply_group(Tensor& x, const PlanBatch& p, const OpGroup& g,
                 uint8_t fill) {
  auto member = [&](const Tensor& t) { return t.narrow(0, g.begin, g.count); };
  const Tensor magnitude = member(p.member_magnitude);
  apply_to(x, member(p.member_sample), g.count, [&](const Tensor& sub) {
    switch (g.family) {
      case Op::kShearX:  // and the other geometric ops
        return warp(sub, member(p.member_affine), fill);
      case Op::kBrightness:  // Color, Contrast
        return blend(sub, member(p.member_kind), 1 + magnitude);
      case Op::kSharpness:
        return sharpness(sub, 1 + magnitude);
      case Op::kPosterize:
        return posterize(sub, magnitude);
      case Op::kSolarize:
        return solarize(sub, magnitude);
      case Op::kAutoContrast:
        return autocontrast(sub);
      case Op::kEqualize:
        return equalize(sub);
      default:
        TORCH_INTERNAL_ASSERT(false, "op family ", static_cast<int>(g.family));
    }
  });
}

}  // namespace

at::Tensor render_views(const at::Tensor& images, const PlanBatch& plans,
                        const AugmentConfig& config,
                        const at::Tensor& image_index) {
  const int s = config.size;
  SEMIFER_CHECK(images.dim() == 4 && images.size(1) == s &&
                    images.size(2) == s && images.size(3) == 3 &&
                    images.scalar_type() == at::kByte,
                "render_views: images must be [N, ", s, ", ", s,
                ", 3] uint8, got ", images.sizes(), " ", images.scalar_type());
  const int64_t n = plans.count();
  if (image_index.defined()) {
    SEMIFER_CHECK(image_index.dim() == 1 && image_index.size(0) == n &&
                      image_index.scalar_type() == at::kLong,
                  "render_views: image_index must be [", n, "] int64, got ",
                  image_index.sizes(), " ", image_index.scalar_type());
    SEMIFER_CHECK(image_index.device() == images.device(),
                  "render_views: image_index on ", image_index.device(),
                  ", images on ", images.device());
  } else {
    SEMIFER_CHECK(n == images.size(0), "render_views: ", n, " plans for ",
                  images.size(0), " images");
  }
  SEMIFER_CHECK(plans.size == s, "render_views: plans packed for size ",
                plans.size, ", config size ", s);
  SEMIFER_CHECK(plans.flip.device() == images.device() &&
                    plans.member_sample.device() == images.device(),
                "render_views: plans on ", plans.flip.device(), ", images on ",
                images.device());
  if (n == 0)
    return at::empty({0, 3, s, s}, images.options().dtype(at::kFloat));

  // Flip, reflect padding, crop and the choice of image: one gather.
  Tensor x = pad_crop(images, image_index, plans.flip, plans.top, plans.left,
                      config.pad());

  // ColorJitter on the jittered samples, in each one's order: at position
  // j, member i applies op jitter_order[i, j] with its factor.
  const int64_t jittered = plans.jitter_sample.size(0);
  if (jittered > 0) {
    apply_to(x, plans.jitter_sample, jittered, [&](Tensor sub) {
      for (int64_t j = 0; j < 3; ++j) {
        sub = blend(sub, plans.jitter_order.select(1, j),
                    plans.jitter_factor.select(1, j));
      }
      return sub;
    });
  }

  // RandAugment, slot by slot (the groups come in slot order); in a slot,
  // each family on the samples that drew it.
  for (const OpGroup& g : plans.groups)
    apply_group(x, plans, g, config.affine_fill);

  // Cutout, a box per sample (empty boxes select nothing).
  const Tensor r = at::arange(s, plans.cutout.options());
  auto within = [&](int lo, int hi) {
    return (r.unsqueeze(0) >= plans.cutout.select(1, lo).unsqueeze(1)) &
           (r.unsqueeze(0) < plans.cutout.select(1, hi).unsqueeze(1));
  };
  const Tensor box = within(1, 3).unsqueeze(2) & within(0, 2).unsqueeze(1);
  x = x.masked_fill(box.unsqueeze(1), static_cast<int>(config.cutout_fill));

  // F.normalize(F.to_tensor(x)): (x / 255 - mean) / std, in float32.
  return normalize(x, config.mean, config.std);
}

}  // namespace semifer::augment
