#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/device_profile.h"

namespace semifer::train {

/// What `semifer bench train` measures: whole steps of the production
/// Trainer (the code `semifer train` runs), after a warm-up, in windows of
/// `window` steps (each window ends with the metric line's read-back, so on
/// CUDA it includes every queued kernel).
struct TrainBenchConfig {
  /// `synthetic`: fixed random tensors stand in for the loader (the model's
  /// step alone); `faces`: rendered faces written as JPEG files, through the
  /// loader (decode, resize, weak and strong views); otherwise a training
  /// config file, whose data, augmentation and method are used.
  std::string data = "synthetic";
  /// Unset: the config's (synthetic and faces: smallnet at 48 px).
  std::optional<std::string> model;
  std::optional<int> size;
  std::optional<std::string>
      device;  ///< unset: the config's (cpu for the others)
  std::optional<int64_t> batch_labeled, batch_unlabeled;
  std::optional<int> threads;        ///< loader threads
  std::optional<int> torch_threads;  ///< intra-op threads
  std::optional<bool> ssl;           ///< the semi-supervised step (default on)
  int64_t steps = 40;                ///< measured steps
  int64_t warmup = 10;               ///< steps before the measured ones
  int64_t window = 10;               ///< steps per measured window
  std::vector<std::string> overrides;  ///< --set key=value, applied last
  /// Times each top-level ATen operation of the measured steps on the
  /// training thread (TrainBenchResult::profile).
  bool profile = false;
};

struct TrainBenchResult {
  std::string model, device;
  int size = 0;
  int64_t batch_labeled = 0, batch_unlabeled = 0;
  int torch_threads = 0, threads = 0;
  bool ssl = true;
  /// Samples per step: labeled + unlabeled (an unlabeled face counts once
  /// though its weak and strong views both go through the network).
  int64_t images_per_step = 0;
  std::vector<double> window_images_per_second;  ///< each measured window
  double images_per_second = 0;                  ///< their median
  double min_images_per_second = 0, max_images_per_second = 0;
  double steps_per_second = 0;     ///< the median window's
  double input_wait = 0;           ///< median share of time waiting for input
  int64_t peak_device_bytes = -1;  ///< CUDA only (-1 elsewhere)
  /// This process's place in a data-parallel job (`semifer launch`,
  /// torchrun); world_size 1: one process.
  int rank = 0, world_size = 1;
  /// train.cuda_graph's outcome (RunSummary::cuda_graph; "" when off).
  std::string cuda_graph;
  /// With TrainBenchConfig::profile: time in each top-level ATen operation
  /// (autograd's backward functions by their names) during the measured
  /// steps, most first; on CUDA the launches' time, not the kernels'.
  struct OpShare {
    std::string name;
    double seconds = 0;
    int64_t calls = 0;
  };
  std::vector<OpShare> profile;
  double profiled_seconds = 0;  ///< the measured windows' wall time
  /// With TrainBenchConfig::profile on CUDA, where device_profile_available():
  /// the kernels, copies and fills of the measured steps (LibTorch's
  /// profiler), NCCL's collectives among them.
  std::optional<DeviceTimes> device_profile;
};

/// Runs the Trainer for warmup + steps steps in a temporary run folder
/// (removed afterwards) and reports the measured windows. Throws
/// semifer::Error on bad settings or a config that does not load.
TrainBenchResult bench_training(const TrainBenchConfig& config);

}  // namespace semifer::train
