#pragma once

#include <cstdint>
#include <vector>

#include "semifer/data/dataset.h"

namespace semifer::data {

/// Class-balanced sampling of the labeled pool (paper section 3.1): every
/// epoch draws `per_class` items of each class present, shuffled together.
///
/// A class with at least `per_class` items contributes `per_class` distinct
/// items. A class with fewer is drawn with replacement, spread evenly: every
/// item appears floor(per_class / n) times and a random
/// (per_class mod n) of them once more, so no item of a rare class is left
/// out of an epoch by chance. The draw depends only on (seed, epoch).
class ClassBalancedSampler {
 public:
  /// `pool` items carry model class indices in [0, num_classes).
  ClassBalancedSampler(const std::vector<PoolItem>& pool, int num_classes,
                       int64_t per_class, uint64_t seed);

  /// Indices into the pool for one epoch, [per_class * classes present].
  std::vector<uint32_t> epoch(int64_t epoch) const;

  /// Number of indices epoch() returns.
  int64_t epoch_size() const;

  /// Classes with at least one item.
  int classes_present() const;

 private:
  std::vector<std::vector<uint32_t>> by_class_;
  int64_t per_class_;
  uint64_t seed_;
};

}  // namespace semifer::data
