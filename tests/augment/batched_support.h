// Shared by the batched renderer's tests: inputs (generated images, real
// faces), the CPU path one sample at a time, and the comparison of views.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "semifer/augment/batched.h"
#include "semifer/augment/functional.h"
#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"
#include "semifer/util/error.h"
#include "support/support.h"

namespace semifer::augment::test_support {

// Generated inputs, so that CI without ../shared covers every op: synthetic
// faces (smooth regions, edges, noise) and one image of pure noise.
inline std::vector<io::Image> generated_images(int size, int count) {
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
inline std::vector<io::Image> real_faces(int size, int count) {
  namespace fs = std::filesystem;
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

inline AugmentConfig config_for(int size) {
  AugmentConfig c;
  c.size = size;
  return c;
}

// The CPU path, one render_view per sample, as [N, 3, S, S].
inline torch::Tensor cpu_views(const std::vector<io::Image>& images,
                               const std::vector<ViewPlan>& plans,
                               const AugmentConfig& c) {
  auto out =
      torch::empty({static_cast<int64_t>(plans.size()), 3, c.size, c.size});
  for (size_t i = 0; i < plans.size(); ++i) {
    render_view(images[i], plans[i], c,
                out.data_ptr<float>() + i * 3 * c.size * c.size);
  }
  return out;
}

struct Diff {
  double mae = 0;    // worst sample's mean absolute error, gray levels
  double worst = 0;  // largest difference, gray levels (0..255)
  double share = 0;  // worst sample's share of pixels that differ at all
  bool identical = false;
};

// Views [N, 3, S, S] un-normalised back to gray levels and compared per
// sample; a pixel differs when any of its channels does.
inline Diff compare(const torch::Tensor& a, const torch::Tensor& b,
                    const AugmentConfig& c) {
  const auto std = torch::tensor(std::vector<float>(c.std.begin(), c.std.end()))
                       .view({1, 3, 1, 1});
  const auto d = (a - b).abs().mul(std).mul(255.0);
  Diff out;
  out.mae = d.mean({1, 2, 3}).max().item<double>();
  out.worst = d.max().item<double>();
  out.share =
      d.amax(1).gt(0.5).to(torch::kDouble).mean({1, 2}).max().item<double>();
  out.identical = torch::equal(a, b);
  return out;
}

inline Diff render_and_compare(const std::vector<io::Image>& images,
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

// Whether `op` is one of the geometric ops (ShearX .. Rotate).
inline bool is_geometric(Op op) {
  return op == Op::kShearX || op == Op::kShearY || op == Op::kTranslateX ||
         op == Op::kTranslateY || op == Op::kRotate;
}

// Random plans for 64 samples at `size`, weak or strong.
inline std::vector<ViewPlan> random_plans(const AugmentConfig& c, bool strong,
                                          uint64_t seed, int count = 64) {
  std::vector<ViewPlan> plans;
  for (int i = 0; i < count; ++i) {
    util::Generator gen({seed, static_cast<uint64_t>(i)});
    plans.push_back(strong ? plan_strong(c, gen) : plan_weak(c, gen));
  }
  return plans;
}

// 64 images at `size`: real faces when ../shared/data has them, then
// generated ones, repeated.
inline std::vector<io::Image> mixed_images(int size) {
  std::vector<io::Image> images = real_faces(size, 8);
  for (const auto& img : generated_images(size, 8)) images.push_back(img);
  images.resize(64, images[0]);
  return images;
}

// The bound of the geometric ops (docs/augment.md, "On the device"): the
// issue's 1 gray level of mean absolute error, and tighter ones measured on
// the development machine (Debian 12, 2-core VM, LibTorch 1.13.1 CPU) at 48,
// 112 and 224 on generated images and real faces, for fixed ops and random
// strong plans: the worst per-sample MAE measured times about 3, and twice
// the worst share of differing pixels (the measured numbers in the
// comments). The share depends on the images and the plans drawn: random
// strong plans on generated images alone (../shared absent) gave 1.58% for
// one sample at 224, where the same plans with real faces among the images
// gave at most 0.04%.
constexpr double kIssueMae = 1.0;
constexpr double kGeometricMae = 0.08;    // measured worst: 0.0264 (224)
constexpr double kGeometricShare = 0.03;  // measured worst: 0.0158 (224)

inline void expect_geometric_bound(const Diff& d, const std::string& what) {
  EXPECT_LE(d.mae, kIssueMae) << what;
  EXPECT_LE(d.mae, kGeometricMae) << what;
  EXPECT_LE(d.share, kGeometricShare) << what;
}

// Renders `plans` both ways. Samples without a geometric op must be
// identical (checked here); the others are compared and returned.
inline Diff render_and_split(const std::vector<io::Image>& images,
                             const std::vector<ViewPlan>& plans,
                             const AugmentConfig& c, const std::string& what) {
  const auto batched =
      render_views(stack_images(images), pack_plans(plans, c), c);
  const auto cpu = cpu_views(images, plans, c);
  std::vector<int64_t> geometric, rest;
  for (size_t i = 0; i < plans.size(); ++i) {
    bool g = false;
    for (const auto& op : plans[i].ops) g = g || is_geometric(op.op);
    (g ? geometric : rest).push_back(static_cast<int64_t>(i));
  }
  auto pick = [](const torch::Tensor& t, const std::vector<int64_t>& i) {
    return t.index_select(0, torch::tensor(i));
  };
  if (!rest.empty()) {
    EXPECT_TRUE(torch::equal(pick(batched, rest), pick(cpu, rest))) << what;
  }
  Diff d;
  d.identical = true;
  if (!geometric.empty())
    d = compare(pick(batched, geometric), pick(cpu, geometric), c);
  return d;
}

}  // namespace semifer::augment::test_support
