#include "semifer/infer/metrics.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace semifer::infer {

TEST(ConfusionMatrix, ScoresAHandCheckedExample) {
  // 3 classes. True 0: predicted 0, 0, 1. True 1: predicted 1, 2. True 2: 2.
  ConfusionMatrix m(3);
  m.add({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2});
  EXPECT_EQ(m.total(), 6);
  EXPECT_DOUBLE_EQ(m.accuracy(), 4.0 / 6.0);
  // Class 0: P = 2/2, R = 2/3, F1 = 0.8.
  EXPECT_DOUBLE_EQ(m.f1(0), 0.8);
  // Class 1: P = 1/2, R = 1/2, F1 = 0.5. Class 2: P = 1/2, R = 1, F1 = 2/3.
  EXPECT_DOUBLE_EQ(m.f1(1), 0.5);
  EXPECT_NEAR(m.f1(2), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.macro_f1(), (0.8 + 0.5 + 2.0 / 3.0) / 3.0, 1e-12);
  EXPECT_EQ(m.rows()[0], (std::vector<int64_t>{2, 1, 0}));
}

TEST(ConfusionMatrix, AbsentClassCountsAsZeroLikeAbawsScorer) {
  // sklearn: f1_score([0, 0, 1], [0, 0, 1], labels=[0, 1, 2], average="macro")
  // is (1 + 1 + 0) / 3.
  ConfusionMatrix m(3);
  m.add({0, 0, 1}, {0, 0, 1});
  EXPECT_DOUBLE_EQ(m.f1(2), 0.0);
  EXPECT_NEAR(m.macro_f1(), 2.0 / 3.0, 1e-12);
  test::expect_error([&] { m.add(3, 0); }, {"out of range"});
  test::expect_error(
      [&] {
        m.add({0}, {0, 1});
      },
      {"1 labels but 2 predictions"});
  EXPECT_DOUBLE_EQ(ConfusionMatrix(2).accuracy(), 0.0);
}

}  // namespace semifer::infer
