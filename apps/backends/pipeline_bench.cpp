#include "backends/pipeline_bench.h"

#include <chrono>
#include <memory>

#include "semifer/data/loader.h"
#include "semifer/util/error.h"

namespace semifer::data {

PipelineBenchResult bench_pipeline(const PipelineBenchConfig& config) {
  SEMIFER_CHECK(config.seconds > 0, "bench: seconds must be positive");
  auto dataset =
      std::make_shared<const Dataset>(image_folder_dataset(config.images));
  augment::AugmentConfig aug;
  aug.size = config.size;
  LoaderConfig lc;
  lc.batch_labeled = 0;
  lc.batch_unlabeled = config.batch;
  lc.threads = config.threads;
  lc.prefetch = 2 * config.threads;
  Loader loader(dataset, aug, lc);
  using clock = std::chrono::steady_clock;
  // Warm-up: fill the queue and the page cache.
  const auto warm_end = clock::now() + std::chrono::milliseconds(500);
  while (clock::now() < warm_end) loader.next();
  PipelineBenchResult r;
  const auto start = clock::now();
  const auto end = start + std::chrono::duration<double>(config.seconds);
  while (clock::now() < end) {
    loader.next();
    r.samples += config.batch;
  }
  r.seconds = std::chrono::duration<double>(clock::now() - start).count();
  r.samples_per_second = static_cast<double>(r.samples) / r.seconds;
  return r;
}

}  // namespace semifer::data
