#include "semifer/augment/batched.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "semifer/augment/functional.h"
#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"
#include "semifer/util/error.h"
#include "support/support.h"

namespace semifer::augment {

namespace {

namespace fs = std::filesystem;

// Generated inputs, so that CI without ../shared covers every op: synthetic
// faces (smooth regions, edges, noise) and one image of pure noise.
std::vector<io::Image> generated_images(int size, int count) {
  std::vector<io::Image> out;
  for (int i = 0; i < count - 1; ++i) {
    util::Generator gen({static_cast<uint64_t>(i), 3});
    out.push_back(
        resize(data::render_face(i % data::kNumExpressions, size + 7 * i, gen),
               size, size));
  }
  util::Generator gen({99});
  io::Image noise(size, size);
  for (auto& v : noise.data) v = static_cast<uint8_t>(gen.below(256));
  out.push_back(noise);
  return out;
}

// Up to `count` faces per folder of ../shared/data, resized to `size` as the
// loader resizes them; empty when the folder is absent.
std::vector<io::Image> real_faces(int size, int count) {
  const std::string root = test::shared_data_dir();
  std::vector<io::Image> out;
  if (root.empty()) return out;
  for (const char* dir : {"/fer2013/train/surprise", "/fer2013/train/happy",
                          "/utkface/crop_part1"}) {
    if (!fs::is_directory(root + dir)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(root + dir))
      files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (int i = 0; i < count && i < static_cast<int>(files.size()); ++i) {
      const auto& f = files[files.size() * i / count];
      out.push_back(resize(io::read_image(f), size, size));
    }
  }
  return out;
}

AugmentConfig config_for(int size) {
  AugmentConfig c;
  c.size = size;
  return c;
}

// The CPU path, one render_view per sample, as [N, 3, S, S].
torch::Tensor cpu_views(const std::vector<io::Image>& images,
                        const std::vector<ViewPlan>& plans,
                        const AugmentConfig& c) {
  auto out =
      torch::empty({static_cast<int64_t>(images.size()), 3, c.size, c.size});
  for (size_t i = 0; i < images.size(); ++i) {
    render_view(images[i], plans[i], c,
                out.data_ptr<float>() + i * 3 * c.size * c.size);
  }
  return out;
}

struct Diff {
  double mae = 0;    // mean absolute error in gray levels (0..255)
  double worst = 0;  // largest, in gray levels
  bool identical = false;
};

// Both views, un-normalised back to gray levels and compared per sample:
// the worst sample's mean absolute error.
Diff compare(const torch::Tensor& a, const torch::Tensor& b,
             const AugmentConfig& c) {
  const auto std = torch::tensor(std::vector<float>(c.std.begin(), c.std.end()))
                       .view({1, 3, 1, 1});
  const auto d = (a - b).abs().mul(std).mul(255.0);
  Diff out;
  out.mae = d.mean({1, 2, 3}).max().item<double>();
  out.worst = d.max().item<double>();
  out.identical = torch::equal(a, b);
  return out;
}

Diff render_and_compare(const std::vector<io::Image>& images,
                        const std::vector<ViewPlan>& plans,
                        const AugmentConfig& c) {
  const auto batched =
      render_views(stack_images(images), pack_plans(plans, c), c);
  EXPECT_EQ(batched.sizes(),
            (std::vector<int64_t>{static_cast<int64_t>(images.size()), 3,
                                  c.size, c.size}));
  EXPECT_EQ(batched.scalar_type(), torch::kFloat32);
  return compare(batched, cpu_views(images, plans, c), c);
}

struct Case {
  std::string name;
  ViewPlan plan;
};

// Every operation with fixed parameters; no translation unless asked for.
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

TEST(BatchedViews, RandomPlansMatchRenderView) {
  for (int size : {48, 112, 224}) {
    const AugmentConfig c = config_for(size);
    std::vector<io::Image> images = real_faces(size, 8);
    for (const auto& img : generated_images(size, 8)) images.push_back(img);
    images.resize(64, images[0]);
    for (bool strong : {false, true}) {
      std::vector<ViewPlan> plans;
      for (int i = 0; i < 64; ++i) {
        util::Generator gen({5, static_cast<uint64_t>(i)});
        plans.push_back(strong ? plan_strong(c, gen) : plan_weak(c, gen));
      }
      const Diff d = render_and_compare(images, plans, c);
      EXPECT_LE(d.mae, 1.0) << (strong ? "strong" : "weak") << " " << size;
      // On the CPU every step is the same arithmetic as render_view's.
      EXPECT_TRUE(d.identical) << (strong ? "strong" : "weak") << " " << size;
      std::printf("[ batched ] random %s plans, size %d: MAE %.4f, max %.0f\n",
                  strong ? "strong" : "weak", size, d.mae, d.worst);
    }
  }
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
  Diff d = render_and_compare(images, plans, c);
  EXPECT_LE(d.mae, 1.0);
  EXPECT_TRUE(d.identical);
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
  EXPECT_LE(d.mae, 1.0);
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

}  // namespace semifer::augment
