#include "semifer/data/sampler.h"

#include <algorithm>

#include "semifer/data/config.h"
#include "semifer/util/error.h"
#include "semifer/util/random.h"

namespace semifer::data {

namespace {
constexpr uint64_t kEpochStream = 0xe90c4;
}

ClassBalancedSampler::ClassBalancedSampler(const std::vector<PoolItem>& pool,
                                           int num_classes, int64_t per_class,
                                           uint64_t seed)
    : by_class_(num_classes), per_class_(per_class), seed_(seed) {
  SEMIFER_CHECK(per_class > 0, "per_class must be positive, got ", per_class);
  for (size_t i = 0; i < pool.size(); ++i) {
    const int label = pool[i].label;
    SEMIFER_CHECK(label >= 0 && label < num_classes, "labeled item ", i,
                  " has class index ", label, " outside [0, ", num_classes,
                  ")");
    by_class_[label].push_back(static_cast<uint32_t>(i));
  }
  SEMIFER_CHECK(per_class <= kMaxEpochSamples / std::max(1, classes_present()),
                "sampling.per_class ", per_class, " x ", classes_present(),
                " classes is more than ", kMaxEpochSamples,
                " samples per epoch");
}

int ClassBalancedSampler::classes_present() const {
  int n = 0;
  for (const auto& members : by_class_) n += !members.empty();
  return n;
}

int64_t ClassBalancedSampler::epoch_size() const {
  return per_class_ * classes_present();
}

std::vector<uint32_t> ClassBalancedSampler::epoch(int64_t epoch) const {
  util::Generator gen({seed_, kEpochStream, static_cast<uint64_t>(epoch)});
  std::vector<uint32_t> out;
  out.reserve(static_cast<size_t>(epoch_size()));
  for (const auto& members : by_class_) {
    if (members.empty()) continue;
    std::vector<uint32_t> shuffled = members;
    gen.shuffle(shuffled);
    const auto n = static_cast<int64_t>(shuffled.size());
    for (int64_t k = 0; k < per_class_; ++k) out.push_back(shuffled[k % n]);
  }
  gen.shuffle(out);
  return out;
}

}  // namespace semifer::data
