#include "semifer/data/dataset.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "semifer/util/error.h"
#include "semifer/util/random.h"
#include "semifer/util/threads.h"

namespace semifer::data {

namespace {

// Streams of the sampling seed, so selection and epoch draws are independent.
constexpr uint64_t kSelectionStream = 0x5e1ec7;

void add_source(Dataset& ds, const SourceConfig& config,
                std::vector<PoolItem>& pool,
                std::vector<int8_t>& leftovers_allowed,
                bool default_leftovers) {
  ReadResult result = read_source(config);
  const auto source = static_cast<uint32_t>(ds.tables.size());
  SourceReport report;
  report.name = config.name;
  report.format = config.format;
  report.role = config.role;
  report.skips = std::move(result.skips);
  report.on_image_error = config.on_image_error;
  const SampleTable& table = *result.table;
  for (size_t i = 0; i < table.samples.size(); ++i) {
    const int canonical = table.samples[i].label;
    PoolItem item{source, static_cast<uint32_t>(i), -1};
    if (canonical >= 0)
      item.label = static_cast<int16_t>(ds.classes.index_of(canonical));
    if (config.role == Role::kUnlabeled) {
      // Labels of an unlabeled source are hidden labels, kept for diagnostics.
      ds.unlabeled.push_back(item);
      ++report.unlabeled;
    } else if (canonical < 0) {
      // Unannotated (-1) Aff-Wild2 frames of a labeled source.
      ds.unlabeled.push_back(item);
      ++report.unlabeled;
    } else if (item.label < 0) {
      report.skips.add("not_in_classes", table.describe(i));
    } else {
      pool.push_back(item);
      ++report.read[canonical];
    }
  }
  ds.tables.push_back(result.table);
  ds.reports.push_back(std::move(report));
  const int flag = config.leftovers_to_unlabeled;
  leftovers_allowed.push_back(flag < 0 ? default_leftovers : flag == 1);
}

// Decodes every item of `pool`; keeps the ones that decode.
DecodeCounts verify_pool(Dataset& ds, std::vector<PoolItem>& pool,
                         int threads) {
  std::vector<uint8_t> ok(pool.size(), 1);
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::string first_fatal;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < pool.size();) {
      try {
        ds.load(pool[i]);
      } catch (const std::exception& e) {
        ok[i] = 0;
        std::lock_guard<std::mutex> lock(mutex);
        if (ds.reports[pool[i].source].on_image_error == OnError::kFail) {
          if (first_fatal.empty()) first_fatal = e.what();
        } else {
          ds.reports[pool[i].source].skips.add("decode_error", e.what());
        }
      }
    }
  };
  std::vector<std::thread> workers;
  util::start_threads(workers, threads, work, "decoding threads",
                      [&] { next.store(pool.size()); });
  for (auto& w : workers) w.join();
  if (!first_fatal.empty()) fail(first_fatal);
  size_t out = 0;
  for (size_t i = 0; i < pool.size(); ++i) {
    if (ok[i]) pool[out++] = pool[i];
  }
  DecodeCounts counts;
  counts.decoded = static_cast<int64_t>(out);
  counts.failed = static_cast<int64_t>(pool.size() - out);
  pool.resize(out);
  return counts;
}

}  // namespace

DecodeCounts Verification::total() const {
  return {labeled.decoded + unlabeled.decoded + validation.decoded,
          labeled.failed + unlabeled.failed + validation.failed};
}

io::Image Dataset::load(const PoolItem& item) const {
  return load_image(*tables.at(item.source), item.index);
}

std::string Dataset::describe(const PoolItem& item) const {
  return tables.at(item.source)->describe(item.index);
}

std::vector<int64_t> Dataset::class_counts(
    const std::vector<PoolItem>& pool) const {
  std::vector<int64_t> n(classes.names().size(), 0);
  for (const auto& item : pool)
    if (item.label >= 0 && static_cast<size_t>(item.label) < n.size())
      ++n[static_cast<size_t>(item.label)];
  return n;
}

Dataset build_dataset(const DataConfig& config, const BuildOptions& options) {
  config.validate();
  Dataset ds;
  ds.classes = config.label_space();
  ds.sampling = config.sampling;
  std::vector<int8_t> leftovers_allowed;
  std::vector<PoolItem> labeled;
  const bool default_leftovers = config.sampling.leftovers_to_unlabeled;
  for (const auto* list :
       {&config.labeled, &config.unlabeled, &config.validation}) {
    for (const SourceConfig& src : *list) {
      auto& pool = src.role == Role::kValidation ? ds.validation : labeled;
      add_source(ds, src, pool, leftovers_allowed, default_leftovers);
    }
  }

  if (options.verify) {
    const int threads = options.threads > 0
                            ? options.threads
                            : std::max(1u, std::thread::hardware_concurrency());
    Verification v;
    v.labeled = verify_pool(ds, labeled, threads);
    v.unlabeled = verify_pool(ds, ds.unlabeled, threads);
    v.validation = verify_pool(ds, ds.validation, threads);
    ds.verified = v;
    for (auto& r : ds.reports) {
      r.read.fill(0);
      r.unlabeled = 0;
    }
    for (const auto& item : labeled) {
      ++ds.reports[item.source].read[ds.classes.canonical(item.label)];
    }
    for (const auto& item : ds.unlabeled) ++ds.reports[item.source].unlabeled;
    for (const auto& item : ds.validation) {
      ++ds.reports[item.source].read[ds.classes.canonical(item.label)];
    }
  }

  // Class-balanced selection, fixed for the run.
  const int num_classes = ds.classes.size();
  std::vector<std::vector<size_t>> by_class(num_classes);
  for (size_t i = 0; i < labeled.size(); ++i)
    by_class[labeled[i].label].push_back(i);
  std::vector<uint8_t> keep(labeled.size(), 1);
  for (int c = 0; c < num_classes; ++c) {
    auto& members = by_class[c];
    if (static_cast<int64_t>(members.size()) <= config.sampling.per_class)
      continue;
    util::Generator gen({config.sampling.seed, kSelectionStream,
                         static_cast<uint64_t>(ds.classes.canonical(c))});
    gen.shuffle(members);
    for (size_t r = static_cast<size_t>(config.sampling.per_class);
         r < members.size(); ++r) {
      const PoolItem& item = labeled[members[r]];
      if (!leftovers_allowed[item.source]) continue;
      keep[members[r]] = 0;
      ds.unlabeled.push_back(item);
      ++ds.reports[item.source].unlabeled;
      ++ds.reports[item.source].leftovers;
    }
  }
  for (size_t i = 0; i < labeled.size(); ++i) {
    if (!keep[i]) continue;
    ds.labeled.push_back(labeled[i]);
    ++ds.reports[labeled[i].source]
          .labeled[ds.classes.canonical(labeled[i].label)];
  }
  for (const auto& item : ds.validation) {
    ++ds.reports[item.source].labeled[ds.classes.canonical(item.label)];
  }
  return ds;
}

Dataset image_folder_dataset(const std::string& root) {
  DataConfig config;
  SourceConfig src;
  src.format = Format::kFolder;
  src.role = Role::kUnlabeled;
  src.layout = "flat";
  src.root = root;
  src.name = "images";
  config.unlabeled = {src};
  Dataset ds = build_dataset(config);
  SEMIFER_CHECK(!ds.unlabeled.empty(), "no images (.jpg, .jpeg, .png) under ",
                root);
  return ds;
}

}  // namespace semifer::data
