#include "semifer/augment/batched.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "augment/batched_support.h"
#include "semifer/util/error.h"

namespace semifer::augment {

namespace {

using namespace test_support;

struct Case {
  std::string name;
  ViewPlan plan;
};

// Every operation with fixed parameters but the geometric ones
// (batched_geometry_test.cpp); no translation unless asked for.
std::vector<Case> fixed_cases(const AugmentConfig& c) {
  std::vector<Case> cases;
  ViewPlan centre;
  centre.top = centre.left = c.pad();
  auto add = [&](const std::string& name, ViewPlan p) {
    cases.push_back({name, std::move(p)});
  };
  ViewPlan p = centre;
  p.flip = true;
  add("flip", p);
  const int pad = c.pad();
  for (auto [top, left] : {std::pair{0, 0},
                           {2 * pad, 2 * pad},
                           {1, 2 * pad},
                           {pad + 3, pad - 5}}) {
    for (bool flip : {false, true}) {
      p = centre;
      p.top = top;
      p.left = left;
      p.flip = flip;
      add(semifer::str("padcrop_", top, "_", left, flip ? "_flip" : ""), p);
    }
  }
  static const char* kJitter[3] = {"brightness", "contrast", "saturation"};
  for (int k = 0; k < 3; ++k) {
    for (float f : {0.6f, 1.4f}) {
      p = centre;
      p.jitter = true;
      p.jitter_factor = {1, 1, 1};
      p.jitter_factor[k] = f;
      add(semifer::str(kJitter[k], "_", f), p);
    }
  }
  p = centre;
  p.jitter = true;
  p.jitter_order = {2, 0, 1};
  p.jitter_factor = {1.3f, 0.7f, 1.2f};
  add("jitter_all", p);
  for (int k = 0; k < kNumOps; ++k) {
    const Op op = static_cast<Op>(k);
    if (is_geometric(op)) continue;
    bool is_signed = false;
    const float m = op_magnitude(op, 10, 31, c.size, &is_signed);
    for (float sign : {1.0f, -1.0f}) {
      if (sign < 0 && !is_signed) continue;
      p = centre;
      p.ops = {{op, sign * m}};
      add(semifer::str(op_name(op), sign < 0 ? "_neg" : ""), p);
    }
  }
  p = centre;
  p.cut_x0 = 3;
  p.cut_y0 = c.size / 3;
  p.cut_x1 = c.size / 2;
  p.cut_y1 = c.size - 1;
  add("cutout", p);
  return cases;
}

// Runs every fixed case on `images`; returns case -> worst MAE.
std::map<std::string, Diff> run_fixed_cases(
    const std::vector<io::Image>& images, const AugmentConfig& c,
    const std::string& label) {
  std::map<std::string, Diff> worst;
  for (const auto& k : fixed_cases(c)) {
    const std::vector<ViewPlan> plans(images.size(), k.plan);
    const Diff d = render_and_compare(images, plans, c);
    // The bound, 1 gray level of mean absolute error, is loose: an
    // off-by-one solarize threshold stays under it on some images. On the
    // CPU the arithmetic is the same as the kernels', so the views are
    // identical.
    EXPECT_LE(d.mae, 1.0) << k.name << " on " << label << ", size " << c.size;
    EXPECT_TRUE(d.identical)
        << k.name << " on " << label << ", size " << c.size;
    worst[k.name] = d;
  }
  return worst;
}

void print_table(const std::string& title,
                 const std::map<std::string, Diff>& diffs) {
  std::printf("[ batched ] %s: worst per-sample MAE / max, gray levels\n",
              title.c_str());
  for (const auto& [name, d] : diffs)
    std::printf("[ batched ]   %-22s %.4f / %.0f\n", name.c_str(), d.mae,
                d.worst);
}

}  // namespace

TEST(BatchedViews, EveryOpMatchesTheCpuKernelOnGeneratedImages) {
  for (int size : {48, 112}) {
    const AugmentConfig c = config_for(size);
    const auto diffs =
        run_fixed_cases(generated_images(size, 6), c, "generated images");
    print_table(semifer::str("generated, size ", size), diffs);
  }
}

TEST(BatchedViews, EveryOpMatchesTheCpuKernelOnRealFaces) {
  if (test::shared_data_dir().empty())
    GTEST_SKIP() << "../shared/data is absent";
  for (int size : {48, 112}) {
    const auto faces = real_faces(size, 4);
    if (faces.empty()) GTEST_SKIP() << "no FER2013 or UTKFace images";
    const AugmentConfig c = config_for(size);
    const auto diffs = run_fixed_cases(faces, c, "real faces");
    print_table(semifer::str("FER2013 + UTKFace, size ", size), diffs);
  }
}

TEST(BatchedViews, RandomWeakPlansMatchRenderView) {
  for (int size : {48, 112, 224}) {
    const AugmentConfig c = config_for(size);
    const Diff d =
        render_and_compare(mixed_images(size), random_plans(c, false, 5), c);
    EXPECT_TRUE(d.identical) << "weak plans, size " << size;
  }
  // Strong plans: batched_geometry_test.cpp (exact for the samples without
  // a geometric op, bounded for the others).
}

TEST(BatchedViews, MixedBatchEverySampleADifferentOp) {
  const AugmentConfig c = config_for(48);
  const auto images = generated_images(48, kNumOps);
  std::vector<ViewPlan> plans;
  util::Generator gen({21});
  for (int k = 0; k < kNumOps; ++k) {
    ViewPlan p;
    p.top = static_cast<int>(gen.uniform_int(0, 2 * c.pad()));
    p.left = static_cast<int>(gen.uniform_int(0, 2 * c.pad()));
    p.flip = k % 2;
    for (int slot = 0; slot < 2; ++slot) {
      const Op op = static_cast<Op>((k + 5 * slot) % kNumOps);
      bool is_signed = false;
      float m = op_magnitude(op, 10 + 5 * slot, 31, c.size, &is_signed);
      if (is_signed && k % 3 == 0) m = -m;
      p.ops.push_back({op, m});
    }
    plans.push_back(p);
  }
  // A shorter plan: its missing slot is Identity.
  plans[3].ops.pop_back();
  // Exact but for the samples with a geometric op, which stay in the bound.
  Diff d = render_and_split(images, plans, c, "mixed batch");
  expect_geometric_bound(d, "mixed batch");
  const PlanBatch packed = pack_plans(plans, c);
  EXPECT_EQ(packed.ops.sizes(), (std::vector<int64_t>{kNumOps, 2}));
  EXPECT_EQ(packed.ops[3][1].item<int64_t>(), 0);

  // Weak plans, jittered in different orders, some not at all.
  for (int k = 0; k < kNumOps; ++k) {
    util::Generator g({22, static_cast<uint64_t>(k)});
    plans[k] = plan_weak(c, g);
    if (k % 3 == 0) plans[k].jitter = false;
  }
  d = render_and_compare(images, plans, c);
  EXPECT_TRUE(d.identical);
}

TEST(BatchedViews, PackedChoicesHaveTheCpuPlansStatistics) {
  const AugmentConfig c = config_for(112);
  const int n = 20000;
  std::vector<ViewPlan> weak(n), strong(n);
  for (int i = 0; i < n; ++i) draw_plans(c, 7, 1, i, &weak[i], &strong[i]);
  const PlanBatch s = pack_plans(strong, c);
  const PlanBatch w = pack_plans(weak, c);
  ASSERT_EQ(s.ops.size(1), c.randaugment_n);
  for (int slot = 0; slot < c.randaugment_n; ++slot) {
    const auto counts = torch::bincount(s.ops.select(1, slot), {}, kNumOps);
    const auto negative = s.magnitudes.select(1, slot).lt(0);
    std::vector<int64_t> want(kNumOps, 0), want_neg(kNumOps, 0);
    for (const auto& p : strong) {
      ++want[static_cast<int>(p.ops[slot].op)];
      want_neg[static_cast<int>(p.ops[slot].op)] += p.ops[slot].magnitude < 0;
    }
    // torchvision draws each op with probability 1/14: within 4.5 standard
    // deviations of the binomial (a false alarm once in ~10^5 runs; the
    // draws are fixed by the seed, so this never flakes).
    const double p = 1.0 / kNumOps;
    const double bound = 4.5 * std::sqrt(p * (1 - p) / n);
    for (int k = 0; k < kNumOps; ++k) {
      EXPECT_EQ(counts[k].item<int64_t>(), want[k]) << op_name(Op(k));
      const auto neg = negative.logical_and(s.ops.select(1, slot) == k)
                           .sum()
                           .item<int64_t>();
      EXPECT_EQ(neg, want_neg[k]) << op_name(Op(k));
      EXPECT_NEAR(static_cast<double>(want[k]) / n, p, bound)
          << op_name(Op(k)) << " in slot " << slot;
      bool is_signed = false;
      op_magnitude(Op(k), 10, 31, c.size, &is_signed);
      if (is_signed) {
        // Signs: a fair coin per signed op.
        const double half = static_cast<double>(neg) / want[k];
        EXPECT_NEAR(half, 0.5, 4.5 * std::sqrt(0.25 / want[k]))
            << op_name(Op(k));
      } else {
        EXPECT_EQ(neg, 0) << op_name(Op(k));
      }
    }
  }
  // The weak plans' flips and jitter orders survive packing too.
  int64_t flips = 0;
  for (const auto& p : weak) flips += p.flip;
  EXPECT_EQ(w.flip.sum().item<int64_t>(), flips);
  EXPECT_EQ(w.ops.size(1), 0);
  EXPECT_EQ(w.jitter_order.sum(1).eq(3).all().item<bool>(), true);
}

TEST(BatchedViews, PlanBatchMovesAndChecksItsInputs) {
  const AugmentConfig c = config_for(48);
  const auto images = generated_images(48, 3);
  std::vector<ViewPlan> plans(3);
  const PlanBatch packed = pack_plans(plans, c);
  EXPECT_EQ(packed.count(), 3);
  const PlanBatch moved = packed.to(torch::Device(torch::kCPU));
  EXPECT_TRUE(torch::equal(moved.cutout, packed.cutout));
  EXPECT_EQ(PlanBatch().count(), 0);
  const auto batch = stack_images(images);
  test::expect_error([&] { render_views(batch.narrow(0, 0, 2), packed, c); },
                     {"3 plans for 2 images"});
  test::expect_error([&] { render_views(batch, packed, config_for(32)); },
                     {"[N, 32, 32, 3] uint8"});
  test::expect_error(
      [&] {
        stack_images({images[0], resize(images[1], 20, 20)});
      },
      {"20x20"});
}

TEST(BatchedViews, CatEqualsPackingThePlansTogether) {
  const AugmentConfig c = config_for(48);
  const auto a = random_plans(c, false, 8, 5);
  const auto b = random_plans(c, true, 9, 7);
  auto d = random_plans(c, true, 10, 6);
  d[2].ops.pop_back();  // a shorter plan: Identity in its last slot
  std::vector<ViewPlan> all = a;
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), d.begin(), d.end());
  const PlanBatch want = pack_plans(all, c);
  const PlanBatch got =
      cat({pack_plans(a, c), pack_plans(b, c), pack_plans(d, c)});
  EXPECT_EQ(got.count(), 18);
  EXPECT_EQ(got.size, 48);
  for (auto field :
       {&PlanBatch::flip, &PlanBatch::top, &PlanBatch::left, &PlanBatch::cutout,
        &PlanBatch::jitter_sample, &PlanBatch::jitter_order,
        &PlanBatch::jitter_factor, &PlanBatch::ops, &PlanBatch::magnitudes,
        &PlanBatch::member_sample, &PlanBatch::member_kind,
        &PlanBatch::member_magnitude, &PlanBatch::member_affine}) {
    EXPECT_TRUE(torch::equal(got.*field, want.*field));
  }
  ASSERT_EQ(got.groups.size(), want.groups.size());
  for (size_t i = 0; i < got.groups.size(); ++i) {
    EXPECT_EQ(got.groups[i].slot, want.groups[i].slot);
    EXPECT_EQ(got.groups[i].family, want.groups[i].family);
    EXPECT_EQ(got.groups[i].begin, want.groups[i].begin);
    EXPECT_EQ(got.groups[i].count, want.groups[i].count);
  }
  // Every member is a sample that drew an op of its group's family there.
  const auto ops = want.ops.accessor<int64_t, 2>();
  const auto sample = want.member_sample.accessor<int64_t, 1>();
  for (const OpGroup& g : want.groups) {
    for (int64_t m = g.begin; m < g.begin + g.count; ++m) {
      const auto op = static_cast<Op>(ops[sample[m]][g.slot]);
      EXPECT_TRUE(op == g.family ||
                  (g.family == Op::kShearX && is_geometric(op)) ||
                  (g.family == Op::kBrightness &&
                   (op == Op::kColor || op == Op::kContrast)))
          << op_name(op) << " in " << op_name(g.family);
    }
  }
  test::expect_error([&] { cat({}); }, {"no plan batches"});
  test::expect_error(
      [&] {
        cat({pack_plans(a, c), pack_plans(a, config_for(32))});
      },
      {"size 32"});
}

TEST(BatchedViews, ImageIndexRendersImagesSeveralTimes) {
  const AugmentConfig c = config_for(48);
  const auto images = generated_images(48, 4);
  const auto weak = random_plans(c, false, 11, 4);
  const auto strong = random_plans(c, true, 12, 4);
  std::vector<io::Image> twice = images;
  twice.insert(twice.end(), images.begin(), images.end());
  std::vector<ViewPlan> plans = weak;
  plans.insert(plans.end(), strong.begin(), strong.end());
  const auto want = render_views(stack_images(twice), pack_plans(plans, c), c);
  const auto got = render_views(
      stack_images(images), cat({pack_plans(weak, c), pack_plans(strong, c)}),
      c, torch::tensor({0, 1, 2, 3, 0, 1, 2, 3}, torch::kLong));
  EXPECT_TRUE(torch::equal(got, want));
  test::expect_error(
      [&] {
        render_views(stack_images(images), pack_plans(weak, c), c,
                     torch::tensor({0, 1}, torch::kLong));
      },
      {"image_index must be [4] int64"});
}

}  // namespace semifer::augment
