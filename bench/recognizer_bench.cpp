// The embedding API from several threads at once: images per second when T
// threads share one Recognizer, each classifying batches of decoded buffers.
//   ./recognizer_bench [--benchmark_filter=...]
// Run it with and without OMP_NUM_THREADS set (bench/run_recognizer.sh):
// each calling thread runs LibTorch's intra-op work as an OpenMP team of its
// own, so T callers start T x at::get_num_threads() threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"
#include "semifer/infer/recognizer.h"
#include "semifer/models/registry.h"
#include "semifer/train/state.h"

namespace {

using namespace semifer;

constexpr int kSize = 112;
constexpr int kBatch = 8;

// An untrained checkpoint of `model` at kSize px in a temporary folder.
std::string write_checkpoint(const std::string& model) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("semifer-recognizer-bench-" + model);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "checkpoint.pt").string();
  torch::manual_seed(0);
  train::TrainState s;
  const int64_t classes = data::kNumExpressions;
  s.student = models::create_model(model, models::ModelOptions{classes});
  s.teacher = models::create_model(model, models::ModelOptions{classes});
  s.optimizer = std::make_unique<torch::optim::Adam>(s.student->parameters());
  s.thresholds = train::DynamicThresholds(classes);
  s.window = train::MetricWindow(classes, torch::kCPU);
  s.card.model = model;
  for (int c = 0; c < data::kNumExpressions; ++c)
    s.card.classes.push_back(data::expression_name(c));
  s.card.input.size = kSize;
  s.save(path);
  return path;
}

const Recognizer& recognizer() {
  static const Recognizer rec(write_checkpoint("resnet18"),
                              RecognizerOptions{"cpu", "B", kBatch});
  return rec;
}

void BM_PredictBatch(benchmark::State& state) {
  const Recognizer& rec = recognizer();
  util::Generator gen({static_cast<uint64_t>(state.thread_index())});
  std::vector<io::Image> faces;
  std::vector<ImageView> views;
  for (int i = 0; i < kBatch; ++i)
    faces.push_back(data::render_face(i % data::kNumExpressions, kSize, gen));
  for (const auto& f : faces)
    views.push_back({f.data.data(), f.height, f.width, PixelFormat::kRGB, 0});
  for (auto _ : state) benchmark::DoNotOptimize(rec.predict(views).data());
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel("intra-op threads " + std::to_string(at::get_num_threads()));
}
BENCHMARK(BM_PredictBatch)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(5.0)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
