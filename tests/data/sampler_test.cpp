#include "semifer/data/sampler.h"

#include <gtest/gtest.h>

#include <map>

namespace semifer::data {

namespace {
std::vector<PoolItem> pool(const std::vector<int>& counts) {
  std::vector<PoolItem> out;
  for (size_t c = 0; c < counts.size(); ++c) {
    for (int i = 0; i < counts[c]; ++i) {
      out.push_back(
          {0, static_cast<uint32_t>(out.size()), static_cast<int16_t>(c)});
    }
  }
  return out;
}
}  // namespace

TEST(ClassBalancedSampler, EveryClassGetsPerClassItems) {
  const auto items = pool({100, 3, 0, 20});
  ClassBalancedSampler sampler(items, 4, 10, 0);
  EXPECT_EQ(sampler.classes_present(), 3);
  EXPECT_EQ(sampler.epoch_size(), 30);
  const auto epoch = sampler.epoch(0);
  ASSERT_EQ(epoch.size(), 30u);
  std::map<int, int> per_class;
  std::map<uint32_t, int> uses;
  for (uint32_t i : epoch) {
    ++per_class[items[i].label];
    ++uses[i];
  }
  EXPECT_EQ(per_class[0], 10);
  EXPECT_EQ(per_class[1], 10);
  EXPECT_EQ(per_class[3], 10);
  // The rare class (3 items, 10 draws) is drawn with replacement, evenly:
  // each item 3 or 4 times.
  for (uint32_t i = 100; i < 103; ++i) {
    EXPECT_GE(uses[i], 3);
    EXPECT_LE(uses[i], 4);
  }
  // A large class contributes distinct items.
  for (const auto& [i, n] : uses) {
    if (items[i].label == 0) EXPECT_EQ(n, 1);
  }
}

TEST(ClassBalancedSampler, DeterministicFromSeedAndEpoch) {
  const auto items = pool({50, 50});
  ClassBalancedSampler a(items, 2, 20, 7), b(items, 2, 20, 7),
      c(items, 2, 20, 8);
  EXPECT_EQ(a.epoch(3), b.epoch(3));
  EXPECT_NE(a.epoch(3), a.epoch(4));
  EXPECT_NE(a.epoch(3), c.epoch(3));
  // Classes are interleaved, not in blocks.
  const auto e = a.epoch(0);
  int switches = 0;
  for (size_t i = 1; i < e.size(); ++i)
    switches += items[e[i]].label != items[e[i - 1]].label;
  EXPECT_GT(switches, 5);
}

TEST(ClassBalancedSampler, RejectsBadInput) {
  EXPECT_THROW(ClassBalancedSampler(pool({1}), 1, 0, 0), std::exception);
  EXPECT_THROW(ClassBalancedSampler(pool({1, 1}), 1, 5, 0), std::exception);
}

}  // namespace semifer::data
