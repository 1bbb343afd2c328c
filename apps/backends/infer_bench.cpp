#include "backends/infer_bench.h"

#include <torch/torch.h>

#include <chrono>

#include "semifer/models/registry.h"
#include "semifer/util/error.h"

namespace semifer::models {

InferBenchResult bench_inference(const InferBenchConfig& config) {
  SEMIFER_CHECK(
      config.batch > 0 && config.size > 0 && config.threads > 0 &&
          config.seconds > 0,
      "bench infer: batch, size, threads and seconds must be positive");
  torch::set_num_threads(config.threads);
  Classifier model = create_model(config.model);
  model->eval();
  torch::manual_seed(0);
  const auto x = torch::randn({config.batch, 3, config.size, config.size});
  c10::InferenceMode guard;
  for (int i = 0; i < 2; ++i) model->forward(x);
  using clock = std::chrono::steady_clock;
  InferBenchResult r;
  const auto start = clock::now();
  const auto end = start + std::chrono::duration<double>(config.seconds);
  while (clock::now() < end) {
    model->forward(x);
    r.images += config.batch;
  }
  r.seconds = std::chrono::duration<double>(clock::now() - start).count();
  r.images_per_second = static_cast<double>(r.images) / r.seconds;
  return r;
}

}  // namespace semifer::models
