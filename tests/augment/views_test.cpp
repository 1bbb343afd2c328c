#include "semifer/augment/views.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <map>

#include "backends/preview.h"
#include "semifer/augment/functional.h"
#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"
#include "support/support.h"

namespace semifer::augment {

namespace {

io::Image face(int seed, int size = 64) {
  util::Generator gen({static_cast<uint64_t>(seed)});
  return data::render_face(seed % data::kNumExpressions, size, gen);
}

int naive_reflect(int i, int n) {
  return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i);
}

}  // namespace

TEST(Views, FusedRenderEqualsOpByOpBitForBit) {
  AugmentConfig c;
  c.size = 40;
  for (int trial = 0; trial < 300; ++trial) {
    const io::Image img = resize(face(trial, 50), c.size, c.size);
    util::Generator gen({7, static_cast<uint64_t>(trial)});
    const ViewPlan plan = trial % 2 ? plan_strong(c, gen) : plan_weak(c, gen);
    std::vector<float> fused(3 * c.size * c.size), reference(fused.size());
    render_view(img, plan, c, fused.data());
    normalize_into(apply_plan(img, plan, c), c.mean, c.std, reference.data());
    ASSERT_EQ(std::memcmp(fused.data(), reference.data(),
                          fused.size() * sizeof(float)),
              0)
        << "trial " << trial;
  }
}

TEST(Views, EveryOpIsFusedExactly) {
  AugmentConfig c;
  c.size = 32;
  c.cutout = 0;
  const io::Image img = resize(face(3, 40), c.size, c.size);
  for (int k = 0; k < kNumOps; ++k) {
    for (float sign : {1.0f, -1.0f}) {
      ViewPlan plan;
      plan.top = plan.left = c.pad();
      bool is_signed = false;
      const Op op = static_cast<Op>(k);
      // Two ops so that value-wise ones compose with a pending table.
      const float m = op_magnitude(op, 12, 31, c.size, &is_signed);
      if (sign < 0 && !is_signed) continue;
      plan.ops = {{Op::kBrightness, 0.2f}, {op, sign * m}};
      std::vector<float> fused(3 * 32 * 32), reference(fused.size());
      render_view(img, plan, c, fused.data());
      normalize_into(apply_plan(img, plan, c), c.mean, c.std, reference.data());
      EXPECT_EQ(std::memcmp(fused.data(), reference.data(),
                            fused.size() * sizeof(float)),
                0)
          << op_name(op);
    }
  }
}

TEST(Views, PadReflectCropMatchesTheDefinition) {
  const io::Image img = test::pattern_image(9, 7, 1);
  const int pad = 3;
  for (bool flip : {false, true}) {
    const io::Image src = flip ? hflip(img) : img;
    for (int top = 0; top <= 2 * pad; ++top) {
      for (int left = 0; left <= 2 * pad; ++left) {
        const io::Image out = pad_reflect_crop(img, pad, top, left, flip);
        for (int y = 0; y < img.height; ++y) {
          for (int x = 0; x < img.width; ++x) {
            const uint8_t* want =
                src.pixel(naive_reflect(x + left - pad, img.width),
                          naive_reflect(y + top - pad, img.height));
            ASSERT_EQ(std::memcmp(out.pixel(x, y), want, 3), 0)
                << "flip " << flip << " top " << top << " left " << left;
          }
        }
      }
    }
  }
  test::expect_error([&] { pad_reflect_crop(img, 7, 0, 0); }, {"padding 7"});
}

TEST(Views, SameSampleSameViewsDifferentSampleDifferentViews) {
  AugmentConfig c;
  c.size = 48;
  const io::Image img = face(1, 60);
  const size_t n = 3 * 48 * 48;
  std::vector<float> w1(n), s1(n), w2(n), s2(n), w3(n), s3(n);
  make_views(img, c, 5, 2, 17, w1.data(), s1.data());
  make_views(img, c, 5, 2, 17, w2.data(), s2.data());
  make_views(img, c, 5, 2, 18, w3.data(), s3.data());
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(s1, s2);
  EXPECT_NE(s1, s3);
  EXPECT_NE(w1, s1);
}

TEST(Views, PlansDrawWhatTheConfigSays) {
  AugmentConfig c;
  c.size = 100;
  util::Generator gen({1});
  int flips = 0;
  std::map<int, int> ops;
  for (int i = 0; i < 4000; ++i) {
    const ViewPlan w = plan_weak(c, gen);
    flips += w.flip;
    ASSERT_TRUE(w.top >= 0 && w.top <= 2 * c.pad());
    for (float f : w.jitter_factor) ASSERT_TRUE(f >= 0.6f && f <= 1.4f);
    EXPECT_TRUE(w.ops.empty());
    const ViewPlan s = plan_strong(c, gen);
    ASSERT_EQ(s.ops.size(), 2u);
    for (const auto& op : s.ops) ++ops[static_cast<int>(op.op)];
    ASSERT_LE(s.cut_x1 - s.cut_x0, c.size / 2);
    ASSERT_LE(s.cut_y1 - s.cut_y0, c.size / 2);
    EXPECT_FALSE(s.jitter);
  }
  EXPECT_NEAR(flips / 4000.0, 0.5, 0.03);
  EXPECT_EQ(ops.size(), static_cast<size_t>(kNumOps));
  for (const auto& [op, n] : ops)
    EXPECT_NEAR(n / 8000.0, 1.0 / kNumOps, 0.02) << op;

  AugmentConfig off;
  off.flip_p = 0;
  off.translate = 0;
  off.brightness = off.contrast = off.saturation = 0;
  off.randaugment_n = 0;
  off.cutout = 0;
  off.size = 16;
  const io::Image img = face(2, 16);
  util::Generator g2({2});
  EXPECT_EQ(apply_plan(img, plan_strong(off, g2), off).data, img.data);
  EXPECT_EQ(apply_plan(img, plan_weak(off, g2), off).data, img.data);
}

TEST(Views, RandAugmentMagnitudesFollowTorchvision) {
  bool is_signed = false;
  EXPECT_FLOAT_EQ(op_magnitude(Op::kRotate, 10, 31, 224, &is_signed), 10.0f);
  EXPECT_TRUE(is_signed);
  EXPECT_FLOAT_EQ(op_magnitude(Op::kShearX, 10, 31, 224, nullptr), 0.1f);
  EXPECT_NEAR(op_magnitude(Op::kTranslateX, 30, 31, 331, nullptr), 150.0f,
              1e-3);
  EXPECT_FLOAT_EQ(op_magnitude(Op::kBrightness, 10, 31, 224, nullptr), 0.3f);
  EXPECT_FLOAT_EQ(op_magnitude(Op::kPosterize, 10, 31, 224, &is_signed), 7.0f);
  EXPECT_FALSE(is_signed);
  EXPECT_FLOAT_EQ(op_magnitude(Op::kPosterize, 30, 31, 224, nullptr), 4.0f);
  EXPECT_FLOAT_EQ(op_magnitude(Op::kSolarize, 10, 31, 224, nullptr), 170.0f);
  EXPECT_FLOAT_EQ(op_magnitude(Op::kEqualize, 10, 31, 224, &is_signed), 0.0f);
  test::expect_error([] { op_magnitude(Op::kRotate, 31, 31, 224, nullptr); },
                     {"0..30"});
}

TEST(Functional, IdentitiesAndEdgeCases) {
  const io::Image img = face(4, 24);
  EXPECT_EQ(posterize(img, 8).data, img.data);
  EXPECT_EQ(solarize(img, 256).data, img.data);
  EXPECT_EQ(adjust_brightness(img, 1).data, img.data);
  EXPECT_EQ(adjust_saturation(img, 1).data, img.data);
  EXPECT_EQ(rotate(img, 0, {0, 0, 0}).data, img.data);
  EXPECT_EQ(hflip(hflip(img)).data, img.data);
  EXPECT_EQ(resize(img, 24, 24).data, img.data);
  const io::Image flat(10, 10, 77);
  EXPECT_EQ(equalize(flat).data, flat.data);
  EXPECT_EQ(autocontrast(flat).data, flat.data);
  // torchvision's grayscale weights sum to 0.9999 and the gray image is
  // truncated, so a flat 77 has gray 76 and contrast pulls towards it.
  EXPECT_EQ(adjust_contrast(flat, 0.3f).data,
            std::vector<uint8_t>(flat.data.size(), 76));
  // Rotating by 45 degrees leaves the corners to the fill colour.
  const io::Image r = rotate(img, 45, {9, 8, 7});
  EXPECT_EQ(r.pixel(0, 0)[0], 9);
  EXPECT_EQ(r.pixel(23, 23)[2], 7);
  // Brightness 0 is black; solarize 0 inverts.
  EXPECT_EQ(adjust_brightness(img, 0).data,
            std::vector<uint8_t>(img.data.size(), 0));
  EXPECT_EQ(solarize(img, 0).pixel(3, 4)[1], 255 - img.pixel(3, 4)[1]);
  test::expect_error([&] { adjust_brightness(img, -1); }, {"negative"});
  test::expect_error([&] { posterize(img, 9); }, {"0..8"});
}

TEST(AugmentConfig, ValidatesAndParsesYaml) {
  AugmentConfig c;
  c.validate();
  EXPECT_EQ(c.pad(), 28);
  c.randaugment_magnitude = 31;
  test::expect_error([&] { c.validate(); }, {"randaugment_magnitude"});
  const YAML::Node node =
      YAML::Load("{size: 112, brightness: 0.2, mean: [0.5, 0.5, 0.5]}");
  const AugmentConfig p = parse_augment_config(node, "train.yaml");
  EXPECT_EQ(p.size, 112);
  EXPECT_FLOAT_EQ(p.brightness, 0.2f);
  EXPECT_FLOAT_EQ(p.mean[1], 0.5f);
  test::expect_error(
      [] { parse_augment_config(YAML::Load("{sise: 3}"), "train.yaml"); },
      {"train.yaml:1", "unknown key 'sise'"});
  test::expect_error(
      [] { parse_augment_config(YAML::Load("{size: 4}"), "train.yaml"); },
      {"train.yaml", "size"});
}

TEST(Preview, GridHasOriginalWeakAndStrongColumns) {
  AugmentConfig c;
  c.size = 32;
  const io::Image grid = preview_grid({face(1), face(2), face(3)}, c, 0);
  EXPECT_EQ(grid.width, 3 * 32 + 4 * 2);
  EXPECT_EQ(grid.height, 3 * 32 + 4 * 2);
  // The first column is the resized original.
  const io::Image original = resize(face(2), 32, 32);
  EXPECT_EQ(
      std::memcmp(grid.pixel(2, 2 + 34 + 5), original.pixel(0, 5), 32 * 3), 0);
}

}  // namespace semifer::augment
