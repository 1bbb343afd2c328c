// Macro F1 from predictions, quantiles and the paired bootstrap.
#include "semifer/eval/statistics.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "semifer/infer/metrics.h"
#include "semifer/util/random.h"

namespace semifer::test {

TEST(Statistics, MacroF1OverASampleCountsRepeats) {
  const std::vector<int64_t> y = {0, 0, 1, 1, 2};
  const std::vector<int64_t> p = {0, 1, 1, 1, 0};
  infer::ConfusionMatrix all(3);
  all.add(y, p);
  EXPECT_DOUBLE_EQ(eval::macro_f1(y, p, 3), all.macro_f1());
  infer::ConfusionMatrix some(3);
  for (int i : {0, 0, 3, 4})
    some.add(static_cast<int>(y[i]), static_cast<int>(p[i]));
  EXPECT_DOUBLE_EQ(eval::macro_f1(y, p, 3, {0, 0, 3, 4}), some.macro_f1());
}

TEST(Statistics, QuantileInterpolatesLikeNumpy) {
  // numpy.quantile([3, 1, 4, 1, 5], [0, 0.25, 0.5, 0.9, 1]).
  const std::vector<double> v = {3, 1, 4, 1, 5};
  EXPECT_DOUBLE_EQ(eval::quantile(v, 0), 1);
  EXPECT_DOUBLE_EQ(eval::quantile(v, 0.25), 1);
  EXPECT_DOUBLE_EQ(eval::quantile(v, 0.5), 3);
  EXPECT_DOUBLE_EQ(eval::quantile(v, 0.9), 4.6);
  EXPECT_DOUBLE_EQ(eval::quantile(v, 1), 5);
}

// The bootstrap against a direct calculation of what its documentation
// says: the same generator, one shared draw per resample, the mean over
// seeds of the paired differences, numpy-style quantiles.
TEST(Statistics, PairedBootstrapMatchesADirectCalculation) {
  util::Generator data_gen(5);
  const int n = 200, classes = 4;
  std::vector<int64_t> y(n);
  for (auto& v : y) v = static_cast<int64_t>(data_gen.below(classes));
  auto noisy = [&](double right) {
    std::vector<int64_t> p = y;
    for (auto& v : p) {
      if (!data_gen.bernoulli(right))
        v = static_cast<int64_t>(data_gen.below(classes));
    }
    return p;
  };
  const std::vector<std::vector<int64_t>> row = {noisy(0.8), noisy(0.7)};
  const std::vector<std::vector<int64_t>> base = {noisy(0.6), noisy(0.6)};
  eval::BootstrapOptions o;
  o.resamples = 300;
  o.seed = 3;
  const eval::Interval got = eval::paired_bootstrap(y, row, base, classes, o);

  auto diff = [&](const std::vector<int64_t>& sample) {
    double s = 0;
    for (size_t k = 0; k < row.size(); ++k) {
      infer::ConfusionMatrix a(classes), b(classes);
      for (int64_t i : sample) {
        a.add(static_cast<int>(y[i]), static_cast<int>(row[k][i]));
        b.add(static_cast<int>(y[i]), static_cast<int>(base[k][i]));
      }
      s += a.macro_f1() - b.macro_f1();
    }
    return s / 2;
  };
  std::vector<int64_t> everyone(n);
  for (int i = 0; i < n; ++i) everyone[i] = i;
  EXPECT_NEAR(got.estimate, diff(everyone), 1e-12);
  util::Generator gen({3, 0xb007ULL});
  std::vector<double> d;
  for (int r = 0; r < o.resamples; ++r) {
    std::vector<int64_t> sample(n);
    for (auto& i : sample) i = static_cast<int64_t>(gen.below(n));
    d.push_back(diff(sample));
  }
  std::sort(d.begin(), d.end());
  auto q = [&](double p) {
    const double pos = p * (d.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    return d[lo] + (pos - lo) * (d[std::min(lo + 1, d.size() - 1)] - d[lo]);
  };
  EXPECT_NEAR(got.low, q(0.025), 1e-12);
  EXPECT_NEAR(got.high, q(0.975), 1e-12);
  EXPECT_LT(got.low, got.estimate);
  EXPECT_GT(got.high, got.estimate);
  EXPECT_GT(got.low, 0);  // 80% and 70% right against 60%: clearly better

  // A row equal to the base differs by exactly zero in every resample.
  const eval::Interval zero = eval::paired_bootstrap(y, base, base, classes, o);
  EXPECT_EQ(zero.estimate, 0);
  EXPECT_EQ(zero.low, 0);
  EXPECT_EQ(zero.high, 0);
}

}  // namespace semifer::test
