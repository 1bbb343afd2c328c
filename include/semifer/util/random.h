#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace semifer::util {

/// A small, fast, platform-independent random generator (xoshiro256**).
///
/// Every random choice in semifer comes from a Generator seeded by a tuple
/// such as (seed, epoch, sample index), never from std::rand or torch's global
/// generator, so results do not depend on the number of threads. The
/// distributions below are written out here because the standard library's
/// are implementation-defined and would differ between compilers.
class Generator {
 public:
  /// Seeds from a list of integers (e.g. {seed, epoch, index}); different
  /// tuples give independent streams.
  explicit Generator(std::initializer_list<uint64_t> key);
  explicit Generator(uint64_t seed = 0) : Generator({seed}) {}

  /// The next 64 random bits.
  uint64_t next();

  /// Uniform integer in [0, n); n must be > 0. Unbiased (Lemire's method).
  uint64_t below(uint64_t n);

  /// Uniform integer in [lo, hi] inclusive.
  int64_t uniform_int(int64_t lo, int64_t hi);

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();

  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// True with probability p.
  bool bernoulli(double p) { return uniform() < p; }

  /// Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(below(i));
      std::swap(v[i - 1], v[j]);
    }
  }

  /// The complete state, for checkpoints.
  std::vector<uint64_t> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  /// Restores a state returned by state().
  void set_state(const std::vector<uint64_t>& state);

 private:
  uint64_t s_[4];
};

/// SplitMix64 finaliser: a good 64-bit mixing function.
uint64_t mix64(uint64_t x);

}  // namespace semifer::util
