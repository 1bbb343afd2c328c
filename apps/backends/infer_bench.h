#pragma once

#include <cstdint>
#include <string>

namespace semifer::models {

/// What `semifer bench infer` measures: forward passes of a zoo model in eval
/// mode under inference mode, on random input, on the CPU.
struct InferBenchConfig {
  std::string model = "efficientnet_b0";
  int size = 224;
  int64_t batch = 16;
  int threads = 2;      ///< intra-op threads (torch::set_num_threads)
  double seconds = 10;  ///< measured time, after two warm-up batches
};

struct InferBenchResult {
  int64_t images = 0;
  double seconds = 0;
  double images_per_second = 0;
};

InferBenchResult bench_inference(const InferBenchConfig& config);

}  // namespace semifer::models
