#include "backends/train_bench.h"

#include <ATen/record_function.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "backends/bench_support.h"
#include "semifer/data/dataset.h"
#include "semifer/data/synthetic.h"
#include "semifer/io/metrics_log.h"
#include "semifer/train/distributed.h"
#include "semifer/train/trainer.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"
#include "semifer/util/strings.h"

namespace semifer::train {

namespace {

// Time spent in each top-level ATen operation (and autograd's backward
// functions) on the thread that creates it, while it lives: on the CPU,
// where operations run as they are called, where a step's time goes; on
// CUDA it times the launches only. RecordFunction callbacks are plain
// functions, hence the thread-local state.
struct OpTimes {
  int depth = 0;
  std::chrono::steady_clock::time_point started;
  std::map<std::string, std::pair<double, int64_t>> by_name;
};
thread_local OpTimes op_times;

std::unique_ptr<at::ObserverContext> op_start(const at::RecordFunction& fn) {
  if (op_times.depth++ == 0)
    op_times.started = std::chrono::steady_clock::now();
  (void)fn;
  return nullptr;
}

void op_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (--op_times.depth != 0) return;
  auto& [secs, calls] = op_times.by_name[fn.name()];
  secs += std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                        op_times.started)
              .count();
  ++calls;
}

class OpProfile {
 public:
  OpProfile() {
    op_times = OpTimes();
    handle_ = at::addThreadLocalCallback(
        at::RecordFunctionCallback(op_start, op_end)
            .scopes({at::RecordScope::FUNCTION,
                     at::RecordScope::BACKWARD_FUNCTION}));
  }
  ~OpProfile() { stop(); }
  OpProfile(const OpProfile&) = delete;
  OpProfile& operator=(const OpProfile&) = delete;

  // No more operations are timed (idempotent).
  void stop() {
    if (!stopped_) at::removeCallback(handle_);
    stopped_ = true;
  }

  std::vector<TrainBenchResult::OpShare> result() const {
    std::vector<TrainBenchResult::OpShare> out;
    for (const auto& [name, v] : op_times.by_name)
      out.push_back({name, v.first, v.second});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.seconds > b.seconds;
    });
    return out;
  }

 private:
  at::CallbackHandle handle_;
  bool stopped_ = false;
};

// One step's input as the loader makes it (normalised float batches, pinned
// where CUDA is present), drawn once.
data::Step fixed_step(const TrainConfig& config, const data::Dataset& dataset) {
  const int64_t b = config.train.batch_labeled;
  const int64_t u = config.ssl.enabled ? config.train.batch_unlabeled : 0;
  const int64_t s = config.augment.size;
  const int64_t classes = static_cast<int64_t>(dataset.classes.names().size());
  auto pin = [](at::Tensor t) {
    return util::cuda_available() ? t.pin_memory() : t;
  };
  torch::manual_seed(config.train.seed);
  data::Step step;
  step.labeled.x_weak = pin(torch::randn({b, 3, s, s}));
  step.labeled.y = pin(torch::randint(classes, {b}, torch::kInt64));
  // Every input pinned, as the loader's: a copy from pageable memory may
  // wait for the stream.
  step.labeled.index = pin(torch::arange(b, torch::kInt64) %
                           std::max<int64_t>(1, dataset.labeled.size()));
  if (u > 0) {
    step.unlabeled.x_weak = pin(torch::randn({u, 3, s, s}));
    step.unlabeled.x_strong = pin(torch::randn({u, 3, s, s}));
    step.unlabeled.index = pin(torch::arange(u, torch::kInt64) %
                               std::max<int64_t>(1, dataset.unlabeled.size()));
    step.unlabeled.source = pin(torch::zeros({u}, torch::kInt64));
    step.unlabeled.hidden_label = pin(torch::full({u}, -1, torch::kInt64));
  }
  return step;
}

}  // namespace

TrainBenchResult bench_training(const TrainBenchConfig& f) {
  SEMIFER_CHECK(f.steps > 0 && f.window > 0 && f.warmup >= 0,
                "bench train: --steps and --window must be positive, "
                "--warmup not negative");
  SEMIFER_CHECK(f.steps % f.window == 0 && f.warmup % f.window == 0,
                "bench train: --steps (", f.steps, ") and --warmup (", f.warmup,
                ") must be multiples of --window (", f.window, ")");
  bench::ScratchFolder scratch("semifer-bench-train-");
  const std::string folder = scratch.path.string();
  const bool own_data = f.data == "synthetic" || f.data == "faces";
  TrainConfig config;
  if (own_data) {
    data::SyntheticConfig sc;
    sc.out_dir = folder + "/data";
    sc.size = f.data == "faces" ? std::max(32, f.size.value_or(48)) : 32;
    sc.scale = f.data == "faces" ? 0.5 : 0.05;
    sc.videos = 1;  // the validation set (Aff-Wild2 style)
    sc.frames = 30;
    const auto written = data::write_synthetic_dataset(sc);
    config.data = data::load_data_config(written.config_path);
    config.model.name = "smallnet";
    config.augment.size = 48;
    config.train.device = "cpu";
    config.ssl.dtm_per_class = 4;
    config.eval_max = 32;
  } else {
    config = load_train_config(f.data);
  }
  if (f.model) config.model.name = *f.model;
  if (f.size) config.augment.size = *f.size;
  if (f.device) config.train.device = *f.device;
  if (f.batch_labeled) config.train.batch_labeled = *f.batch_labeled;
  if (f.batch_unlabeled) config.train.batch_unlabeled = *f.batch_unlabeled;
  if (f.threads) config.train.threads = *f.threads;
  if (f.torch_threads) config.train.torch_threads = *f.torch_threads;
  if (f.ssl) config.ssl.enabled = *f.ssl;
  const int64_t total = f.warmup + f.steps;
  // One epoch longer than the benchmark, stopped after `total` steps (as
  // Ctrl-C stops a run): no epoch-end DTM update or validation runs, so
  // the profile holds the steps alone.
  config.train.epochs = 1;
  config.train.steps_per_epoch = total + f.window;
  config.train.log_every = f.window;
  config.train.checkpoint_every = total + f.window;
  if (!f.overrides.empty()) {
    // --set goes through the config reader (its checks and messages).
    const std::string path = folder + "/bench.yaml";
    util::write_text(path, to_yaml(config));
    config = load_train_config(path, f.overrides);
  }
  config.validate();

  RunOptions options;
  options.run_dir = folder + "/run";
  options.progress = false;
  // Under `semifer launch` (or torchrun) the benchmark is one rank of a
  // data-parallel job, as `semifer train` is.
  const LaunchEnv env = read_launch_env();
  if (env.present) options.group = join_training_job(env, config);
  const std::string device = util::resolve_device(config.train.device);
  const int cuda_index =
      device.rfind("cuda:", 0) == 0 ? std::stoi(device.substr(5)) : -1;
  int64_t stepped = 0;
  std::vector<io::MetricsLine> lines;
  std::unique_ptr<OpProfile> profile;
  std::unique_ptr<DeviceProfile> kernels;
  std::optional<DeviceTimes> kernel_times;
  auto start_profiles = [&] {
    profile = std::make_unique<OpProfile>();
    if (cuda_index >= 0 && device_profile_available()) {
      // The warm-up's kernels are not measured.
      torch::cuda::synchronize(cuda_index);
      kernels = std::make_unique<DeviceProfile>(/*cuda=*/true);
    }
  };
  options.stop_requested = [&] {
    if (++stepped < total) return false;
    // The stopped run's checkpoint is not a step's work.
    if (profile) profile->stop();
    if (kernels) {
      torch::cuda::synchronize(cuda_index);  // every measured kernel ran
      kernel_times = kernels->stop();
      kernels.reset();
    }
    return true;
  };
  if (f.profile && f.warmup == 0) start_profiles();
  options.on_metrics = [&](const io::MetricsLine& l) {
    lines.push_back(l);
    // The measured windows start after the warm-up's last line.
    if (f.profile && l.step == f.warmup) start_profiles();
  };
  if (f.data == "synthetic") {
    const data::Step step =
        fixed_step(config, data::build_dataset(config.data));
    options.input = [step](int64_t s) {
      data::Step out = step;
      out.step = s;
      return out;
    };
  }
  Trainer trainer(config, options);
  util::reset_peak_device_memory(cuda_index);
  RunSummary summary;
  {
    // The run's messages (a short run's "no pseudo-label kept" warning) are
    // not the benchmark's; errors still end it as exceptions.
    struct Quiet {
      std::shared_ptr<util::LogSink> saved = util::log_sink();
      Quiet() { util::set_log_sink(nullptr); }
      ~Quiet() { util::set_log_sink(saved); }
    } quiet;
    summary = trainer.run();
  }

  TrainBenchResult r;
  r.cuda_graph = summary.cuda_graph;
  if (options.group) {
    r.rank = options.group->rank();
    r.world_size = options.group->size();
  }
  r.model = config.model.name;
  r.device = device;
  r.size = config.augment.size;
  r.batch_labeled = config.train.batch_labeled;
  r.ssl = config.ssl.enabled;
  r.batch_unlabeled = r.ssl ? config.train.batch_unlabeled : 0;
  r.torch_threads = at::get_num_threads();
  r.threads = config.train.threads;
  r.images_per_step = r.batch_labeled + r.batch_unlabeled;
  std::vector<double> waits;
  for (const auto& l : lines) {
    if (!l.step || *l.step <= f.warmup || !l.images_per_second) continue;
    r.window_images_per_second.push_back(*l.images_per_second);
    waits.push_back(l.input_wait.value_or(0));
  }
  SEMIFER_CHECK(!r.window_images_per_second.empty(),
                "bench train: no measured window");
  r.images_per_second = bench::median(r.window_images_per_second);
  const auto [lo, hi] = std::minmax_element(r.window_images_per_second.begin(),
                                            r.window_images_per_second.end());
  r.min_images_per_second = *lo;
  r.max_images_per_second = *hi;
  r.steps_per_second =
      r.images_per_second / static_cast<double>(r.images_per_step);
  r.input_wait = bench::median(waits);
  r.peak_device_bytes = util::peak_device_memory(cuda_index);
  r.device_profile = kernel_times;
  if (profile) {
    r.profile = profile->result();
    for (const double secs : r.window_images_per_second)
      r.profiled_seconds += static_cast<double>(f.window) *
                            static_cast<double>(r.images_per_step) / secs;
  }
  return r;
}

}  // namespace semifer::train
