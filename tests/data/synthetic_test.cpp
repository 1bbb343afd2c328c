#include "semifer/data/synthetic.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "support/support.h"

namespace semifer::data {

using test::TempDir;

namespace {

io::Image face(int expression, uint64_t seed, float intensity) {
  util::Generator gen({seed});
  return render_face(expression, 48, gen, nullptr, 1.0f, intensity);
}

std::string bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(Synthetic, IntensityMovesAnExpressionTowardsTheNeutralFace) {
  for (int e : {kHappiness, kSurprise, kAnger}) {
    // Same random draws: at intensity 0 the face is the neutral one, at 1
    // the full expression, in between neither.
    EXPECT_EQ(face(e, 7, 0.0f).data, face(kNeutral, 7, 1.0f).data) << e;
    EXPECT_NE(face(e, 7, 1.0f).data, face(kNeutral, 7, 1.0f).data) << e;
    const io::Image half = face(e, 7, 0.5f);
    EXPECT_NE(half.data, face(e, 7, 1.0f).data) << e;
    EXPECT_NE(half.data, face(kNeutral, 7, 1.0f).data) << e;
  }
}

TEST(Synthetic, LabelNoiseRedrawsTheExpressionOfAShareOfLabeledImages) {
  TempDir t;
  SyntheticConfig c;
  c.size = 32;
  c.unlabeled = 1;
  c.validation = 1;
  c.videos = 1;
  c.frames = 2;
  for (int& n : c.labeled) n = 50;
  c.out_dir = t.file("clean");
  write_synthetic_dataset(c);
  c.label_noise = 0.3f;
  c.out_dir = t.file("noisy");
  write_synthetic_dataset(c);
  // Every image has its own random stream, so an image changes only where
  // its expression was redrawn.
  int changed = 0, total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           t.path() / "clean" / "labeled")) {
    if (!entry.is_regular_file()) continue;
    const auto rel =
        std::filesystem::relative(entry.path(), t.path() / "clean");
    ++total;
    changed += bytes(entry.path()) != bytes(t.path() / "noisy" / rel);
  }
  ASSERT_EQ(total, 400);
  EXPECT_GT(changed, 400 * 0.3 - 40);
  EXPECT_LT(changed, 400 * 0.3 + 40);
}

TEST(Synthetic, RejectsBadKnobs) {
  TempDir t;
  SyntheticConfig c;
  c.out_dir = t.file("x");
  c.min_intensity = 1.5f;
  EXPECT_THROW(write_synthetic_dataset(c), Error);
  c.min_intensity = 1.0f;
  c.label_noise = -0.1f;
  EXPECT_THROW(write_synthetic_dataset(c), Error);
  c.label_noise = 0.0f;
  for (double& m : c.unlabeled_mix) m = 0;
  EXPECT_THROW(write_synthetic_dataset(c), Error);
  // Refused before anything is written.
  EXPECT_FALSE(std::filesystem::exists(c.out_dir));
}

}  // namespace semifer::data
