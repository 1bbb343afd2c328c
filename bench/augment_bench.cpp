// Per-operation cost of the CPU augmentation kernels on a 224x224 face.
//   ./augment_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "semifer/augment/functional.h"
#include "semifer/augment/views.h"
#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"

namespace {

using namespace semifer;

const io::Image& face224() {
  static const io::Image img = [] {
    util::Generator gen({3});
    return data::render_face(data::kHappiness, 224, gen);
  }();
  return img;
}

void BM_Resize200To224(benchmark::State& state) {
  util::Generator gen({3});
  const io::Image src = data::render_face(data::kHappiness, 200, gen);
  for (auto _ : state)
    benchmark::DoNotOptimize(augment::resize(src, 224, 224).data.data());
}
BENCHMARK(BM_Resize200To224)->Unit(benchmark::kMicrosecond);

void BM_Resize48To224(benchmark::State& state) {
  util::Generator gen({3});
  const io::Image src = data::render_face(data::kHappiness, 48, gen);
  for (auto _ : state)
    benchmark::DoNotOptimize(augment::resize(src, 224, 224).data.data());
}
BENCHMARK(BM_Resize48To224)->Unit(benchmark::kMicrosecond);

void BM_Op(benchmark::State& state) {
  const auto op = static_cast<augment::Op>(state.range(0));
  bool is_signed = false;
  const float m = augment::op_magnitude(op, 10, 31, 224, &is_signed);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        augment::apply_op(face224(), op, m, 0).data.data());
  }
  state.SetLabel(augment::op_name(op));
}
BENCHMARK(BM_Op)
    ->DenseRange(0, augment::kNumOps - 1)
    ->Unit(benchmark::kMicrosecond);

void BM_Saturation(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        augment::adjust_saturation(face224(), 1.3f).data.data());
  }
}
BENCHMARK(BM_Saturation)->Unit(benchmark::kMicrosecond);

void BM_RenderView(benchmark::State& state) {
  augment::AugmentConfig c;
  std::vector<float> out(3 * 224 * 224);
  int64_t i = 0;
  for (auto _ : state) {
    util::Generator gen({1, static_cast<uint64_t>(i++)});
    const auto plan = state.range(0) ? augment::plan_strong(c, gen)
                                     : augment::plan_weak(c, gen);
    augment::render_view(face224(), plan, c, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(state.range(0) ? "strong" : "weak");
}
BENCHMARK(BM_RenderView)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
