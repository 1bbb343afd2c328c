#pragma once

#include <cstdint>
#include <vector>

/// Statistics for comparing trained models on one validation set: macro F1
/// from predictions, and the paired bootstrap interval of a difference
/// (`semifer ablation`, docs/evaluation.md).
namespace semifer::eval {

/// Macro F1 (infer::ConfusionMatrix's, ABAW's) of `predictions` against
/// `labels`, over the samples `sample` lists (all when empty; repeats
/// count as often as listed).
double macro_f1(const std::vector<int64_t>& labels,
                const std::vector<int64_t>& predictions, int num_classes,
                const std::vector<int64_t>& sample = {});

/// A point estimate and a two-sided interval.
struct Interval {
  double estimate = 0;
  double low = 0, high = 0;
};

/// Options of paired_bootstrap.
struct BootstrapOptions {
  int resamples = 2000;
  double level = 0.95;  ///< the interval covers this central share
  uint64_t seed = 0;    ///< of the resampling (util::Generator)
};

/// The difference `row - base` of macro F1 averaged over seeds, with a
/// percentile bootstrap interval over validation samples: each resample
/// draws n sample indices with replacement (one draw shared by every seed
/// and both sides, so the comparison stays paired) and computes
/// mean_k(F1(row[k]) - F1(base[k])) on it; the interval is the
/// (1 - level) / 2 and (1 + level) / 2 quantiles of those (linear
/// interpolation between order statistics). `row` and `base` hold one
/// prediction vector per seed, each parallel to `labels`; the estimate is
/// the mean difference on all samples.
Interval paired_bootstrap(const std::vector<int64_t>& labels,
                          const std::vector<std::vector<int64_t>>& row,
                          const std::vector<std::vector<int64_t>>& base,
                          int num_classes,
                          const BootstrapOptions& options = {});

/// The q-quantile (0 <= q <= 1) of `values` with linear interpolation
/// between order statistics (numpy's default); `values` must not be empty.
double quantile(std::vector<double> values, double q);

}  // namespace semifer::eval
