#include "semifer/data/source.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "semifer/data/formats.h"
#include "semifer/util/error.h"
#include "semifer/util/random.h"

namespace semifer::data {

namespace {

// Keeps the stratified [from, to) slice; see Subset.
void apply_subset(const Subset& subset, SampleTable& table, Skips& skips) {
  if (subset.all()) return;
  std::map<int, std::vector<size_t>> strata;
  for (size_t i = 0; i < table.samples.size(); ++i) {
    strata[table.samples[i].label].push_back(i);
  }
  std::vector<bool> keep(table.samples.size(), false);
  for (auto& [label, members] : strata) {
    util::Generator gen(
        {subset.seed, 0x5b5e7ULL, static_cast<uint64_t>(label + 1)});
    gen.shuffle(members);
    const double n = static_cast<double>(members.size());
    const auto lo = static_cast<size_t>(std::llround(subset.from * n));
    const auto hi = static_cast<size_t>(std::llround(subset.to * n));
    for (size_t r = lo; r < hi && r < members.size(); ++r)
      keep[members[r]] = true;
  }
  std::vector<Sample> kept;
  for (size_t i = 0; i < table.samples.size(); ++i) {
    if (keep[i]) kept.push_back(table.samples[i]);
  }
  const auto dropped = static_cast<int64_t>(table.samples.size() - kept.size());
  if (dropped > 0) skips.add("outside_subset", "", dropped);
  table.samples = std::move(kept);
}

}  // namespace

ReadResult read_source(const SourceConfig& config) {
  SEMIFER_CHECK(
      config.subset.from >= 0 && config.subset.from < config.subset.to &&
          config.subset.to <= 1,
      "source ", config.name, ": subset must satisfy 0 <= from < to <= 1");
  ReadResult result;
  switch (config.format) {
    case Format::kAffWild2:
      result = read_affwild2(config);
      break;
    case Format::kAffectNet:
      result = read_affectnet(config);
      break;
    case Format::kExpW:
      result = read_expw(config);
      break;
    case Format::kRafDb:
      result = read_rafdb(config);
      break;
    case Format::kFer2013Csv:
      result = read_fer2013_csv(config);
      break;
    case Format::kFerPlus:
      result = read_ferplus(config);
      break;
    case Format::kFolder:
      result = read_folder(config);
      break;
    case Format::kCsv:
      result = read_csv_list(config);
      break;
    case Format::kRecordIO:
      result = read_recordio(config);
      break;
  }
  if (!config.subset.all()) {
    // The table is ours until it is returned; slice it in place.
    auto table = std::const_pointer_cast<SampleTable>(result.table);
    apply_subset(config.subset, *table, result.skips);
  }
  return result;
}

}  // namespace semifer::data
