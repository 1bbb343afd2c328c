#include "semifer/util/random.h"

#include "semifer/util/error.h"

namespace semifer::util {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Generator::Generator(std::initializer_list<uint64_t> key) {
  // Absorb the key into one 64-bit value, then expand it with SplitMix64 as
  // the xoshiro authors recommend. The length is absorbed too, so {1} and
  // {1, 0} differ.
  uint64_t h = mix64(0x5e31f3a9d2c4b7e1ULL ^ key.size());
  for (uint64_t k : key) h = mix64(h ^ mix64(k));
  for (auto& s : s_) {
    h += 0x9e3779b97f4a7c15ULL;
    s = mix64(h);
  }
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t Generator::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Generator::below(uint64_t n) {
  SEMIFER_CHECK(n > 0, "Generator::below needs n > 0");
  __uint128_t m = static_cast<__uint128_t>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<__uint128_t>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Generator::uniform_int(int64_t lo, int64_t hi) {
  SEMIFER_CHECK(lo <= hi, "uniform_int needs lo <= hi");
  return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi) -
                                         static_cast<uint64_t>(lo) + 1));
}

double Generator::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

void Generator::set_state(const std::vector<uint64_t>& state) {
  SEMIFER_CHECK(state.size() == 4, "generator state must have 4 words, got ",
                state.size());
  for (int i = 0; i < 4; ++i) s_[i] = state[i];
}

}  // namespace semifer::util
