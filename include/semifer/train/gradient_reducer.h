#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace semifer::train {

class Group;

/// Averages the gradients of `params` over the ranks as DDP does: buckets of
/// about `bucket_mb` megabytes, in the reverse order of the parameters (the
/// order backward produces them), each all-reduced as soon as all its
/// gradients are ready while backward still runs; buckets start in a fixed
/// order on every rank. finish() waits for all of them and writes the mean
/// gradient into each parameter's grad.
class GradientReducer {
 public:
  GradientReducer(std::shared_ptr<Group> group, std::vector<at::Tensor> params,
                  double bucket_mb);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Call before backward: arms the buckets.
  void prepare();
  /// Call after backward: starts the buckets not started yet (parameters
  /// that got no gradient count as zero), waits for all, writes the means.
  void finish();

  /// Buckets and their parameter counts, for tests and docs.
  std::vector<int64_t> bucket_sizes() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace semifer::train
