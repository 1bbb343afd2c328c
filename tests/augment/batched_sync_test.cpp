// render_views never synchronises with the host, proved by running it on the
// meta device: meta tensors have shapes and no data, so any operation that
// reads values on the host (item(), a copy to the host) or whose output
// shape depends on values (nonzero, masked_select, boolean indexing, unique)
// throws there. A RecordFunction observer also fails the test when any
// operation receives a host tensor (a copy from the host, which on CUDA
// blocks unless pinned), and counts the ATen operations of a batch.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/library.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "augment/batched_support.h"
#include "support/op_observer.h"

namespace semifer::augment {

namespace {

using namespace test_support;

// Shape-only meta kernels for the shape-preserving ops that LibTorch 1.13
// has no meta kernel for (2.x has them): their output shape is a function
// of their input shapes only, so they do not weaken the proof.
at::Tensor where_meta(const at::Tensor& c, const at::Tensor& a,
                      const at::Tensor& b) {
  return at::empty(
      at::infer_size(at::infer_size(c.sizes(), a.sizes()), b.sizes()),
      a.options().dtype(at::result_type(a, b)).device(at::kMeta));
}

at::Tensor index_select_meta(const at::Tensor& self, int64_t dim,
                             const at::Tensor& index) {
  auto sizes = self.sizes().vec();
  sizes[static_cast<size_t>(at::maybe_wrap_dim(dim, self.dim()))] =
      index.numel();
  return at::empty(sizes, self.options());
}

bool has_meta_kernel(const char* name, const char* overload) {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow(name, overload)
      .hasKernelForDispatchKey(c10::DispatchKey::Meta);
}

void register_missing_meta_kernels() {
  static std::unique_ptr<torch::Library> lib;
  if (lib) return;
  lib = std::make_unique<torch::Library>(
      torch::Library::IMPL, "aten", c10::DispatchKey::Meta, __FILE__, __LINE__);
  if (!has_meta_kernel("aten::where", "self"))
    lib->impl("where.self", TORCH_FN(where_meta));
  if (!has_meta_kernel("aten::index_select", ""))
    lib->impl("index_select", TORCH_FN(index_select_meta));
}

// What render_views' operations amount to.
struct Observed {
  int64_t top_level = 0;  // ATen calls made by the code under test
  int64_t all = 0;        // including those they make
  // Roughly the kernels: top-level calls but views, reshapes and
  // allocations, plus the dtype conversions `to` makes.
  int64_t kernels = 0;
  std::string host_input;  // the first op that received a host tensor
};

Observed count(const std::vector<test::OpCall>& calls) {
  static const std::set<std::string> kNoKernel = {
      "aten::select", "aten::unsqueeze",  "aten::reshape", "aten::view",
      "aten::narrow", "aten::expand",     "aten::permute", "aten::squeeze",
      "aten::empty",  "aten::empty_like", "aten::to"};
  Observed o;
  for (const test::OpCall& call : calls) {
    ++o.all;
    if (call.depth == 0) {
      ++o.top_level;
      o.kernels += kNoKernel.count(call.name) == 0;
    } else if (call.depth == 1 && call.name == "aten::_to_copy") {
      ++o.kernels;
    }
    if (call.host_tensor && o.host_input.empty()) o.host_input = call.name;
  }
  return o;
}

// render_views on the meta device: its result and the operations it made.
struct MetaRun {
  at::Tensor views;
  Observed ops;
};

MetaRun render_on_meta(int64_t images, const PlanBatch& cpu_plans,
                       const AugmentConfig& c,
                       const at::Tensor& cpu_index = {}) {
  register_missing_meta_kernels();
  const at::Device meta(at::kMeta);
  const at::Tensor batch =
      at::empty({images, c.size, c.size, 3}, at::dtype(at::kByte).device(meta));
  const PlanBatch plans = cpu_plans.to(meta);
  const at::Tensor index =
      cpu_index.defined() ? cpu_index.to(meta) : at::Tensor();
  MetaRun run;
  test::OpObserver observer;
  run.views = render_views(batch, plans, c, index);
  run.ops = count(observer.calls());
  return run;
}

// N plans in which every op family occurs in both slots, no family for the
// whole batch: the most operations a batch of K = 2 costs.
std::vector<ViewPlan> every_family(const AugmentConfig& c, int n) {
  const Op ops[7] = {Op::kRotate,    Op::kContrast, Op::kSharpness,
                     Op::kPosterize, Op::kSolarize, Op::kAutoContrast,
                     Op::kEqualize};
  std::vector<ViewPlan> plans;
  for (int i = 0; i < n; ++i) {
    util::Generator gen({31, static_cast<uint64_t>(i)});
    ViewPlan p = plan_weak(c, gen);
    p.jitter = i % 2 == 0;  // some jittered, some not
    for (int slot = 0; slot < 2; ++slot) {
      bool is_signed = false;
      const Op op = ops[(i + 3 * slot) % 7];
      p.ops.push_back({op, op_magnitude(op, 9, 31, c.size, &is_signed)});
    }
    plans.push_back(p);
  }
  return plans;
}

}  // namespace

TEST(BatchedSync, TheMetaDeviceCatchesWhatWouldSynchronise) {
  // The check itself: on this LibTorch, each of these throws on meta
  // tensors, and a copy from the host is reported.
  const auto meta = at::TensorOptions().device(at::kMeta);
  const at::Tensor v = at::empty({4}, meta);
  EXPECT_ANY_THROW(v.gt(0).nonzero());
  EXPECT_ANY_THROW(v.sum().item<float>());
  EXPECT_ANY_THROW(v.masked_select(v.gt(0)));
  EXPECT_ANY_THROW(v.index({v.gt(0)}));
  EXPECT_ANY_THROW(v.to(at::kCPU));
  test::OpObserver observer;
  at::tensor({1.0f, 2.0f}).to(at::kMeta);
  EXPECT_NE(count(observer.calls()).host_input, "");
}

TEST(BatchedSync, RenderViewsRunsOnTheMetaDevice) {
  for (int size : {48, 224}) {
    const AugmentConfig c = config_for(size);
    for (const auto& plans : {random_plans(c, false, 3),
                              random_plans(c, true, 3), every_family(c, 21)}) {
      const auto n = static_cast<int64_t>(plans.size());
      const MetaRun run = render_on_meta(n, pack_plans(plans, c), c);
      EXPECT_EQ(run.views.sizes(), (std::vector<int64_t>{n, 3, size, size}));
      EXPECT_EQ(run.views.scalar_type(), at::kFloat);
      EXPECT_EQ(run.ops.host_input, "") << "an op received a host tensor";
    }
  }
}

TEST(BatchedSync, AStepIsOneRenderOnTheMetaDevice) {
  // render_step_views' call: [labeled weak; unlabeled weak; unlabeled
  // strong] over B + U images, the unlabeled ones used twice.
  const AugmentConfig c = config_for(112);
  const int64_t b = 6, u = 10;
  const PlanBatch plans = cat({pack_plans(random_plans(c, false, 1, b), c),
                               pack_plans(random_plans(c, false, 2, u), c),
                               pack_plans(random_plans(c, true, 2, u), c)});
  const at::Tensor index =
      at::cat({at::arange(b + u, at::kLong), at::arange(b, b + u, at::kLong)});
  const MetaRun run = render_on_meta(b + u, plans, c, index);
  EXPECT_EQ(run.views.sizes(),
            (std::vector<int64_t>{b + 2 * u, 3, c.size, c.size}));
  EXPECT_EQ(run.ops.host_input, "");
}

TEST(BatchedSync, OperationsPerBatchDependOnNeitherSizeNorBatch) {
  // The same groups at different N and S cost the same operations.
  Observed every[2], weak[2];
  for (int k = 0; k < 2; ++k) {
    const AugmentConfig c = config_for(k == 0 ? 48 : 224);
    const int n = k == 0 ? 14 : 70;
    every[k] = render_on_meta(n, pack_plans(every_family(c, n), c), c).ops;
    weak[k] =
        render_on_meta(n, pack_plans(random_plans(c, false, 4, n), c), c).ops;
  }
  EXPECT_EQ(every[0].top_level, every[1].top_level);
  EXPECT_EQ(every[0].kernels, every[1].kernels);
  EXPECT_EQ(weak[0].top_level, weak[1].top_level);
  EXPECT_EQ(weak[0].kernels, weak[1].kernels);
  // batched.h states these numbers.
  std::printf(
      "[ sync ] per batch, every op family in both of K = 2 slots: %lld ATen "
      "calls, %lld of them kernels; weak plans (K = 0): %lld, %lld\n",
      static_cast<long long>(every[0].top_level),
      static_cast<long long>(every[0].kernels),
      static_cast<long long>(weak[0].top_level),
      static_cast<long long>(weak[0].kernels));
  EXPECT_LE(every[0].kernels, 417);
  EXPECT_LE(weak[0].kernels, 129);
}

}  // namespace semifer::augment
