// The geometric ops of render_views against the CPU kernel: source
// coordinates in closed form rather than stepped along the row, so a few
// pixels may differ; bounded (augment/batched_support.h) at 48, 112 and 224.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "augment/batched_support.h"

namespace semifer::augment {

namespace {

using namespace test_support;

// Worst of several comparisons.
void keep_worst(Diff& worst, const Diff& d) {
  worst.mae = std::max(worst.mae, d.mae);
  worst.worst = std::max(worst.worst, d.worst);
  worst.share = std::max(worst.share, d.share);
}

// Every geometric op at several magnitudes, both signs, no padding crop
// offset; returns the worst comparison.
Diff fixed_geometric_ops(const std::vector<io::Image>& images,
                         const AugmentConfig& c, const std::string& label) {
  Diff worst;
  for (Op op : {Op::kShearX, Op::kShearY, Op::kTranslateX, Op::kTranslateY,
                Op::kRotate}) {
    for (int bin : {3, 10, 17, 30}) {
      bool is_signed = false;
      const float m = op_magnitude(op, bin, 31, c.size, &is_signed);
      for (float sign : {1.0f, -1.0f}) {
        ViewPlan p;
        p.top = p.left = c.pad();
        p.ops = {{op, sign * m}};
        const std::vector<ViewPlan> plans(images.size(), p);
        const Diff d = render_and_compare(images, plans, c);
        expect_geometric_bound(
            d, semifer::str(op_name(op), " ", sign * m, " on ", label,
                            ", size ", c.size));
        keep_worst(worst, d);
      }
    }
  }
  return worst;
}

void print(const char* what, int size, const Diff& d) {
  std::printf(
      "[ geometry ] %s, size %d: worst MAE %.4f, worst share of differing "
      "pixels %.5f, largest difference %.0f gray levels\n",
      what, size, d.mae, d.share, d.worst);
}

}  // namespace

TEST(BatchedGeometry, FixedOpsWithinTheBoundOnGeneratedImages) {
  for (int size : {48, 112, 224}) {
    const AugmentConfig c = config_for(size);
    const Diff d =
        fixed_geometric_ops(generated_images(size, 6), c, "generated images");
    print("fixed ops, generated images", size, d);
  }
}

TEST(BatchedGeometry, FixedOpsWithinTheBoundOnRealFaces) {
  if (test::shared_data_dir().empty())
    GTEST_SKIP() << "../shared/data is absent";
  for (int size : {48, 112, 224}) {
    const auto faces = real_faces(size, 4);
    if (faces.empty()) GTEST_SKIP() << "no FER2013 or UTKFace images";
    const AugmentConfig c = config_for(size);
    const Diff d = fixed_geometric_ops(faces, c, "real faces");
    print("fixed ops, FER2013 + UTKFace", size, d);
  }
}

TEST(BatchedGeometry, RandomStrongPlansWithinTheBound) {
  for (int size : {48, 112, 224}) {
    const AugmentConfig c = config_for(size);
    const auto images = mixed_images(size);
    Diff worst;
    for (uint64_t seed : {5, 6, 7}) {
      const auto plans = random_plans(c, true, seed);
      const std::string what =
          semifer::str("strong plans, seed ", seed, ", size ", size);
      // Samples without a geometric op: identical (render_and_split).
      const Diff d = render_and_split(images, plans, c, what);
      expect_geometric_bound(d, what);
      keep_worst(worst, d);
    }
    print("random strong plans (samples with a geometric op)", size, worst);
  }
}

}  // namespace semifer::augment
