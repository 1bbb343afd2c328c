#include "semifer/train/graph.h"

#include <torch/torch.h>

#include <utility>

#include "semifer/train/losses.h"
#include "semifer/train/optimizer.h"
#include "semifer/train/state.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/util/torch_compat.h"

// The capture itself needs a LibTorch with CUDA (CMake defines
// SEMIFER_WITH_CUDA for this file then) recent enough for the fused Adam
// with a tensor learning rate and per-thread capture (torch_compat.h).
#if defined(SEMIFER_WITH_CUDA) && SEMIFER_CAN_CAPTURE_STEPS
#define SEMIFER_GRAPHS 1
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/cuda.h>

#include <optional>

// Global capture mode would let the loader threads' pinned allocations
// invalidate a capture.
static_assert(semifer::compat::HasCaptureMode<at::cuda::CUDAGraph,
                                              cudaStreamCaptureMode>::value,
              "this LibTorch's CUDAGraph::capture_begin takes no capture mode");
#endif

namespace semifer::train {

namespace {

#ifdef SEMIFER_GRAPHS
// The sizes and types a captured graph was recorded for, in one list (the
// input buffers are reallocated when either changes).
std::vector<int64_t> batch_shape(const data::Step& batch, bool semi) {
  std::vector<int64_t> shape;
  auto add = [&](const at::Tensor& t) {
    shape.push_back(static_cast<int64_t>(t.scalar_type()));
    shape.push_back(t.dim());
    for (int64_t d : t.sizes()) shape.push_back(d);
  };
  add(batch.labeled.x_weak);
  add(batch.labeled.y);
  if (semi) {
    add(batch.unlabeled.x_weak);
    add(batch.unlabeled.x_strong);
    add(batch.unlabeled.index);
    add(batch.unlabeled.hidden_label);
  }
  return shape;
}
#endif

}  // namespace

struct GraphedStep::Impl {
  int64_t warmup = 3;
  int64_t eager = 0;  // warm-up steps taken
  bool told_shape = false;
  StepBuffers buffers;              // the captured inputs' home
  at::Tensor lr, lambda_unlabeled;  // [] float32 on the device
  StepStats outputs;                // the captured step's statistics
  std::vector<int64_t> shape;       // the captured batch's sizes
  const void* images_at = nullptr;  // the captured input batch's address
  std::string note;
#ifdef SEMIFER_GRAPHS
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  std::optional<c10::cuda::CUDAStream> side;

  StepStats capture(TrainState& state, const StepInputs& inputs, bool semi,
                    const StepOptions& graph_options);
#endif
};

std::string GraphedStep::obstacle(TrainState& state, const StepOptions& options,
                                  const c10::Device& device) {
  if (!device.is_cuda())
    return str("CUDA graphs need a CUDA device; the run is on ", device.str());
#ifndef SEMIFER_WITH_CUDA
  return "this semifer was built against a LibTorch without CUDA";
#else
  if (!SEMIFER_CAN_CAPTURE_STEPS)
    return str("capturing a step needs LibTorch >= 2.2; this is ",
               compat::torch_version());
  const GraphSafeOptimizer* opt = graph_safe(*state.optimizer);
  if (!opt || !opt->capturable())
    return "the optimizer is not Adam or AdamW through the fused kernel "
           "(train.optimizer_kernels: auto or fused)";
  if (options.after_backward)
    return "a gradient hook runs host code inside the step (a data-parallel "
           "run's all-reduce, or RunOptions::after_backward)";
  if (at::globalContext().deterministicAlgorithms())
    return "train.deterministic: CUDA's deterministic index_put and "
           "scatter_add read their indices' range on the host";
  return "";
#endif
}

GraphedStep::GraphedStep(int64_t warmup) : impl_(std::make_unique<Impl>()) {
  SEMIFER_CHECK(warmup >= 1, "a captured step needs at least one warm-up ",
                "step, got ", warmup);
  impl_->warmup = warmup;
}

GraphedStep::~GraphedStep() = default;

bool GraphedStep::captured() const {
#ifdef SEMIFER_GRAPHS
  return impl_->graph != nullptr;
#else
  return false;
#endif
}

std::string GraphedStep::note() { return std::exchange(impl_->note, {}); }

StepStats GraphedStep::run(TrainState& state, const data::Step& batch,
                           bool semi, const StepOptions& options, double lr) {
  Impl& m = *impl_;
#ifndef SEMIFER_GRAPHS
  (void)m, (void)lr;
  return run_step(state, batch, semi, options);
#else
  const c10::Device device = state.student->parameters().front().device();
  GraphSafeOptimizer* opt = graph_safe(*state.optimizer);
  TORCH_CHECK(opt, "GraphedStep: the optimizer cannot be captured");
  if (!m.lr.defined()) {
    const auto f = at::TensorOptions(device).dtype(at::kFloat);
    m.lr = at::zeros({}, f);
    m.lambda_unlabeled = at::zeros({}, f);
    opt->set_device_lr(m.lr);
  }
  // Every path's optimizer step reads the rate from the device now.
  m.lr.fill_(lr);
  m.lambda_unlabeled.fill_(unlabeled_weight(
      options.ssl.lambda_unlabeled, options.ssl.unlabeled_warmup, state.step));
  const std::vector<int64_t> shape = batch_shape(batch, semi);
  if (m.graph && shape != m.shape) {
    if (!m.told_shape)
      m.note = str("train.cuda_graph: step ", state.step,
                   " has another batch shape than the captured one; such "
                   "steps run eagerly");
    m.told_shape = true;
    return run_step(state, batch, semi, options);
  }
  StepOptions graph_options = options;
  graph_options.buffers = &m.buffers;
  graph_options.lambda_unlabeled = m.lambda_unlabeled;
  // Queued on the current stream, before the replay that reads them.
  const StepInputs inputs =
      stage_step(batch, semi, device, &m.buffers, /*copy=*/true);
  if (m.graph) {
    // The graph reads the buffers it was captured with.
    TORCH_INTERNAL_ASSERT(inputs.images.data_ptr() == m.images_at,
                          "the captured step's input buffer moved");
    m.graph->replay();
    opt->count_replay();
    return m.outputs;
  }
  if (!m.side) m.side = c10::cuda::getStreamFromPool(false, device.index());
  if (m.eager < m.warmup) {
    // On the stream the capture will use; the device is idle around it.
    torch::cuda::synchronize(device.index());
    StepStats s;
    {
      c10::cuda::CUDAStreamGuard guard(*m.side);
      s = run_step(state, inputs, semi, graph_options);
    }
    torch::cuda::synchronize(device.index());
    ++m.eager;
    return s;
  }
  m.shape = shape;
  return m.capture(state, inputs, semi, graph_options);
#endif
}

#ifdef SEMIFER_GRAPHS
StepStats GraphedStep::Impl::capture(TrainState& state,
                                     const StepInputs& inputs, bool semi,
                                     const StepOptions& graph_options) {
  const c10::Device device = inputs.images.device();
  GraphSafeOptimizer* opt = graph_safe(*state.optimizer);
  torch::cuda::synchronize(device.index());
  // The capture allocates from a pool of its own, and the allocator frees
  // no cached blocks during a capture: the warm-up steps' cached memory
  // goes back first, or the capture may run out where eager steps fit.
  c10::cuda::CUDACachingAllocator::emptyCache();
  // Casted weights must not outlive the capture in autocast's cache.
  const bool cache = at::autocast::is_autocast_cache_enabled();
  at::autocast::set_autocast_cache_enabled(false);
  auto captured = std::make_unique<at::cuda::CUDAGraph>();
  opt->begin_capture();
  bool began = false, ended = false;
  std::string failure;
  StepStats out;
  {
    c10::cuda::CUDAStreamGuard guard(*side);
    try {
      // Per-thread mode: the loader's threads may still pin host memory.
      compat::capture_begin(*captured, cudaStreamCaptureModeThreadLocal);
      began = true;
      out = run_step(state, inputs, semi, graph_options);
      ended = true;
      captured->capture_end();
    } catch (const std::exception& e) {
      failure = error_line(e);
      if (began && !ended) {
        try {
          captured->capture_end();
        } catch (const std::exception&) {
          // The capture was invalid: the first error says why.
        }
      }
    }
  }
  at::autocast::set_autocast_cache_enabled(cache);
  if (!failure.empty()) {
    // A capture that failed part-way can leave LibTorch mid-capture (the
    // CUDA generator's offsets, the allocator's pool): later eager steps
    // would fail or draw wrong numbers, so the run stops here; what it
    // wrote so far (its last checkpoint) stays. The optimizer's counts and
    // CUDA's last error are put right for whatever runs while it unwinds.
    opt->end_capture(/*kept=*/false);
    captured.reset();
    (void)cudaGetLastError();
    fail("train.cuda_graph: capturing step ", state.step, " failed (", failure,
         "); run again with train.cuda_graph false (--set "
         "train.cuda_graph=false), which trains eagerly");
  }
  opt->end_capture(/*kept=*/true);
  captured->replay();  // the captured step itself
  graph = std::move(captured);
  outputs = out;
  images_at = inputs.images.data_ptr();
  note = str("train.cuda_graph: step ", state.step, " captured after ", eager,
             " eager warm-up steps; each later step replays it");
  return outputs;
}
#endif

}  // namespace semifer::train
