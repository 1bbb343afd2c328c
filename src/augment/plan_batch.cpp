#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "semifer/augment/batched.h"
#include "semifer/augment/functional.h"
#include "semifer/util/error.h"

// PlanBatch: packing, moving and concatenating plans. Everything that
// depends on which op a sample drew is decided here, on the host, so that
// render_views never needs to look at tensor values.
namespace semifer::augment {

using at::Tensor;

namespace {

// The family an op is rendered with (batched.h, OpGroup); Identity for none.
Op family_of(Op op) {
  switch (op) {
    case Op::kShearX:
    case Op::kShearY:
    case Op::kTranslateX:
    case Op::kTranslateY:
    case Op::kRotate:
      return Op::kShearX;
    case Op::kBrightness:
    case Op::kColor:
    case Op::kContrast:
      return Op::kBrightness;
    default:
      return op;
  }
}

// The blend target of Brightness (0), Contrast (1) and Color (2).
int64_t blend_kind(Op op) {
  return op == Op::kContrast ? 1 : op == Op::kColor ? 2 : 0;
}

}  // namespace

int64_t PlanBatch::count() const { return flip.defined() ? flip.size(0) : 0; }

namespace {

// A copy of `plans` with `f` applied to each of its defined tensors.
template <class F>
PlanBatch map_tensors(const PlanBatch& plans, F f) {
  PlanBatch out = plans;
  for (Tensor* t :
       {&out.flip, &out.top, &out.left, &out.cutout, &out.jitter_sample,
        &out.jitter_order, &out.jitter_factor, &out.ops, &out.magnitudes,
        &out.member_sample, &out.member_kind, &out.member_magnitude,
        &out.member_affine}) {
    if (t->defined()) *t = f(*t);
  }
  return out;
}

}  // namespace

PlanBatch PlanBatch::to(const c10::Device& device) const {
  return map_tensors(*this, [&](const Tensor& t) {
    return t.to(device, /*non_blocking=*/true);
  });
}

PlanBatch PlanBatch::pinned() const {
  return map_tensors(*this, [](const Tensor& t) { return t.pin_memory(); });
}

PlanBatch pack_plans(const std::vector<ViewPlan>& plans,
                     const AugmentConfig& config) {
  const auto n = static_cast<int64_t>(plans.size());
  int64_t k = 0, jittered = 0;
  for (const auto& p : plans) {
    k = std::max<int64_t>(k, p.ops.size());
    jittered += p.jitter;
  }
  // (slot, family) -> samples, in sample order: groups by slot, then family.
  std::map<std::pair<int64_t, int>, std::vector<int64_t>> members;
  for (int64_t i = 0; i < n; ++i) {
    const auto& ops = plans[static_cast<size_t>(i)].ops;
    for (size_t j = 0; j < ops.size(); ++j) {
      const Op f = family_of(ops[j].op);
      if (f != Op::kIdentity)
        members[{static_cast<int64_t>(j), static_cast<int>(f)}].push_back(i);
    }
  }
  int64_t t = 0;
  for (const auto& [key, samples] : members)
    t += static_cast<int64_t>(samples.size());

  const auto i64 = at::TensorOptions().dtype(at::kLong);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  PlanBatch b;
  b.size = config.size;
  b.flip = at::empty({n}, i64.dtype(at::kBool));
  b.top = at::empty({n}, i64);
  b.left = at::empty({n}, i64);
  b.cutout = at::empty({n, 4}, i64);
  b.jitter_sample = at::empty({jittered}, i64);
  b.jitter_order = at::empty({jittered, 3}, i64);
  b.jitter_factor = at::empty({jittered, 3}, f32);
  b.ops = at::zeros({n, k}, i64);  // Identity is code 0
  b.magnitudes = at::zeros({n, k}, f32);
  b.member_sample = at::empty({t}, i64);
  b.member_kind = at::zeros({t}, i64);
  b.member_magnitude = at::empty({t}, f32);
  b.member_affine = at::zeros({t, 6}, f32);

  bool* flip = b.flip.data_ptr<bool>();
  int64_t* top = b.top.data_ptr<int64_t>();
  int64_t* left = b.left.data_ptr<int64_t>();
  int64_t* cut = b.cutout.data_ptr<int64_t>();
  int64_t* jitter_sample = b.jitter_sample.data_ptr<int64_t>();
  int64_t* order = b.jitter_order.data_ptr<int64_t>();
  float* factor = b.jitter_factor.data_ptr<float>();
  int64_t* op_code = b.ops.data_ptr<int64_t>();
  float* magnitude = b.magnitudes.data_ptr<float>();
  int64_t jitter_at = 0;
  for (int64_t i = 0; i < n; ++i) {
    const ViewPlan& p = plans[static_cast<size_t>(i)];
    flip[i] = p.flip;
    top[i] = p.top;
    left[i] = p.left;
    const int box[4] = {p.cut_x0, p.cut_y0, p.cut_x1, p.cut_y1};
    for (int j = 0; j < 4; ++j) cut[i * 4 + j] = box[j];
    if (p.jitter) {
      jitter_sample[jitter_at] = i;
      for (int j = 0; j < 3; ++j) {
        order[jitter_at * 3 + j] = p.jitter_order[j];
        factor[jitter_at * 3 + j] = p.jitter_factor[p.jitter_order[j]];
      }
      ++jitter_at;
    }
    for (size_t j = 0; j < p.ops.size(); ++j) {
      op_code[i * k + static_cast<int64_t>(j)] =
          static_cast<int64_t>(p.ops[j].op);
      magnitude[i * k + static_cast<int64_t>(j)] = p.ops[j].magnitude;
    }
  }

  int64_t* sample = b.member_sample.data_ptr<int64_t>();
  int64_t* kind = b.member_kind.data_ptr<int64_t>();
  float* member_magnitude = b.member_magnitude.data_ptr<float>();
  float* affine = b.member_affine.data_ptr<float>();
  int64_t at = 0;
  for (const auto& [key, samples] : members) {
    const auto [slot, family] = key;
    b.groups.push_back({slot, static_cast<Op>(family), at,
                        static_cast<int64_t>(samples.size())});
    for (int64_t i : samples) {
      const ViewPlan::AppliedOp& step =
          plans[static_cast<size_t>(i)].ops[static_cast<size_t>(slot)];
      sample[at] = i;
      kind[at] = blend_kind(step.op);
      member_magnitude[at] = step.magnitude;
      std::array<float, 6> m;
      if (op_affine_matrix(step.op, step.magnitude, config.size, config.size,
                           &m)) {
        std::memcpy(affine + at * 6, m.data(), sizeof(m));
      }
      ++at;
    }
  }
  return b;
}

PlanBatch cat(const std::vector<PlanBatch>& parts) {
  SEMIFER_CHECK(!parts.empty(), "cat: no plan batches");
  PlanBatch out;
  out.size = parts[0].size;
  int64_t k = 0;
  for (const auto& p : parts) {
    SEMIFER_CHECK(p.size == out.size, "cat: plans packed for size ", p.size,
                  " and ", out.size);
    k = std::max(k, p.ops.size(1));
  }
  // Per-sample tensors one after the other; samples of later parts move by
  // the sizes before them; ops and magnitudes padded with Identity to K.
  std::vector<Tensor> flip, top, left, cutout, ops, magnitudes;
  std::vector<Tensor> jitter_sample, jitter_order, jitter_factor;
  std::vector<int64_t> offset;
  int64_t n = 0;
  for (const auto& p : parts) {
    offset.push_back(n);
    flip.push_back(p.flip);
    top.push_back(p.top);
    left.push_back(p.left);
    cutout.push_back(p.cutout);
    const int64_t missing = k - p.ops.size(1);
    ops.push_back(at::constant_pad_nd(p.ops, {0, missing}, 0));
    magnitudes.push_back(at::constant_pad_nd(p.magnitudes, {0, missing}, 0));
    jitter_sample.push_back(p.jitter_sample.add(n));
    jitter_order.push_back(p.jitter_order);
    jitter_factor.push_back(p.jitter_factor);
    n += p.count();
  }
  out.flip = at::cat(flip);
  out.top = at::cat(top);
  out.left = at::cat(left);
  out.cutout = at::cat(cutout);
  out.ops = at::cat(ops);
  out.magnitudes = at::cat(magnitudes);
  out.jitter_sample = at::cat(jitter_sample);
  out.jitter_order = at::cat(jitter_order);
  out.jitter_factor = at::cat(jitter_factor);

  // Groups: each (slot, family) gathers its ranges from the parts in order,
  // so that its samples stay ascending.
  std::map<std::pair<int64_t, int>, std::vector<std::pair<size_t, OpGroup>>>
      ranges;
  for (size_t p = 0; p < parts.size(); ++p) {
    for (const OpGroup& g : parts[p].groups)
      ranges[{g.slot, static_cast<int>(g.family)}].push_back({p, g});
  }
  std::vector<Tensor> sample, kind, magnitude, affine;
  int64_t at = 0;
  for (const auto& [key, list] : ranges) {
    OpGroup merged{key.first, static_cast<Op>(key.second), at, 0};
    for (const auto& [p, g] : list) {
      const PlanBatch& part = parts[p];
      sample.push_back(
          part.member_sample.narrow(0, g.begin, g.count).add(offset[p]));
      kind.push_back(part.member_kind.narrow(0, g.begin, g.count));
      magnitude.push_back(part.member_magnitude.narrow(0, g.begin, g.count));
      affine.push_back(part.member_affine.narrow(0, g.begin, g.count));
      merged.count += g.count;
    }
    at += merged.count;
    out.groups.push_back(merged);
  }
  if (out.groups.empty()) {
    const PlanBatch& first = parts[0];
    out.member_sample = first.member_sample.narrow(0, 0, 0);
    out.member_kind = first.member_kind.narrow(0, 0, 0);
    out.member_magnitude = first.member_magnitude.narrow(0, 0, 0);
    out.member_affine = first.member_affine.narrow(0, 0, 0);
  } else {
    out.member_sample = at::cat(sample);
    out.member_kind = at::cat(kind);
    out.member_magnitude = at::cat(magnitude);
    out.member_affine = at::cat(affine);
  }
  return out;
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

}  // namespace semifer::augment
