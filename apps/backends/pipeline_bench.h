#pragma once

#include <cstdint>
#include <string>

namespace semifer::data {

/// What `semifer bench pipeline` measures: the loader decoding every image
/// of a folder and making its weak and strong views at size x size.
struct PipelineBenchConfig {
  std::string images;  ///< folder of images (read recursively)
  int size = 224;
  int threads = 1;
  double seconds = 10;  ///< measured time, after a short warm-up
  int64_t batch = 32;
};

struct PipelineBenchResult {
  int64_t samples = 0;
  double seconds = 0;
  double samples_per_second = 0;
};

/// Runs the loader for `seconds` and counts samples (each: decode + resize +
/// weak view + strong view, normalised into batch tensors).
PipelineBenchResult bench_pipeline(const PipelineBenchConfig& config);

}  // namespace semifer::data
