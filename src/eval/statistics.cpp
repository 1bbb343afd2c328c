#include "semifer/eval/statistics.h"

#include <algorithm>
#include <cmath>

#include "semifer/infer/metrics.h"
#include "semifer/util/error.h"
#include "semifer/util/random.h"

namespace semifer::eval {

double macro_f1(const std::vector<int64_t>& labels,
                const std::vector<int64_t>& predictions, int num_classes,
                const std::vector<int64_t>& sample) {
  SEMIFER_CHECK(labels.size() == predictions.size(),
                "macro_f1: ", labels.size(), " labels but ", predictions.size(),
                " predictions");
  infer::ConfusionMatrix m(num_classes);
  if (sample.empty()) {
    m.add(labels, predictions);
  } else {
    for (const int64_t i : sample) {
      m.add(static_cast<int>(labels[static_cast<size_t>(i)]),
            static_cast<int>(predictions[static_cast<size_t>(i)]));
    }
  }
  return m.macro_f1();
}

double quantile(std::vector<double> values, double q) {
  SEMIFER_CHECK(!values.empty(), "quantile of no values");
  SEMIFER_CHECK(q >= 0 && q <= 1, "quantile: q must lie in [0, 1], got ", q);
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] +
         (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

Interval paired_bootstrap(const std::vector<int64_t>& labels,
                          const std::vector<std::vector<int64_t>>& row,
                          const std::vector<std::vector<int64_t>>& base,
                          int num_classes, const BootstrapOptions& options) {
  SEMIFER_CHECK(!labels.empty(), "paired_bootstrap: no samples");
  SEMIFER_CHECK(!row.empty() && row.size() == base.size(),
                "paired_bootstrap: ", row.size(), " seeds against ",
                base.size());
  SEMIFER_CHECK(options.resamples > 0 && options.level > 0 && options.level < 1,
                "paired_bootstrap: bad options");
  auto mean_difference = [&](const std::vector<int64_t>& sample) {
    double sum = 0;
    for (size_t k = 0; k < row.size(); ++k) {
      sum += macro_f1(labels, row[k], num_classes, sample) -
             macro_f1(labels, base[k], num_classes, sample);
    }
    return sum / static_cast<double>(row.size());
  };
  Interval out;
  out.estimate = mean_difference({});
  util::Generator gen({options.seed, 0xb007ULL});
  const auto n = static_cast<uint64_t>(labels.size());
  std::vector<int64_t> sample(labels.size());
  std::vector<double> diffs;
  diffs.reserve(static_cast<size_t>(options.resamples));
  for (int r = 0; r < options.resamples; ++r) {
    for (auto& i : sample) i = static_cast<int64_t>(gen.below(n));
    diffs.push_back(mean_difference(sample));
  }
  out.low = quantile(diffs, (1 - options.level) / 2);
  out.high = quantile(diffs, (1 + options.level) / 2);
  return out;
}

}  // namespace semifer::eval
