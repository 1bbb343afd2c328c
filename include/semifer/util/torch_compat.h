#pragma once

// The one place where differences between LibTorch versions live. semifer
// builds against Debian's LibTorch 1.13 (CPU) and against LibTorch 2.x (the
// pip wheel's C++ distribution, with CUDA). Code elsewhere uses only what
// this header provides when an API differs between the two.

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_fused_adam.h>
#include <c10/util/StringUtil.h>
#include <torch/version.h>

#include <string>
#include <type_traits>
#include <utility>

#define SEMIFER_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||          \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

static_assert(SEMIFER_TORCH_AT_LEAST(1, 13), "semifer needs LibTorch >= 1.13");

// Training steps can be captured as CUDA graphs (train/graph.cpp, with a
// CUDA LibTorch): 2.2 has the fused Adam with a tensor learning rate, and
// CUDAGraph::capture_begin takes the capture mode (per thread: the
// loader's threads may pin host memory meanwhile).
#define SEMIFER_CAN_CAPTURE_STEPS SEMIFER_TORCH_AT_LEAST(2, 2)

#if SEMIFER_TORCH_AT_LEAST(2, 0)
#include <ATen/ops/_fused_adamw.h>
#endif

namespace semifer::compat {

/// "major.minor.patch" of the LibTorch semifer was built against.
inline const char* torch_version() { return TORCH_VERSION; }

/// Mixed precision on CUDA for the guard's lifetime: eligible operations
/// (convolutions, matrix products) run in bfloat16, the rest in float32, as
/// `torch.autocast("cuda", dtype=torch.bfloat16)` does. Does nothing when
/// `enabled` is false. LibTorch 2.4 replaced the CUDA-only autocast calls by
/// per-device ones.
class CudaBf16Autocast {
 public:
  explicit CudaBf16Autocast(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
#if SEMIFER_TORCH_AT_LEAST(2, 4)
    was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    was_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    was_enabled_ = at::autocast::is_enabled();
    was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
    at::autocast::increment_nesting();
  }
  ~CudaBf16Autocast() {
    if (!enabled_) return;
    // The cache of casted weights lives for the outermost region only.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if SEMIFER_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, was_dtype_);
#else
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
#endif
  }
  CudaBf16Autocast(const CudaBf16Autocast&) = delete;
  CudaBf16Autocast& operator=(const CudaBf16Autocast&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kHalf;
};

/// Multiplies every tensor of `tensors` in place by the [] tensor `factor`
/// (no host read of it). LibTorch 2.1 added the one-call overload.
inline void foreach_mul_(at::TensorList tensors, const at::Tensor& factor) {
#if SEMIFER_TORCH_AT_LEAST(2, 1)
  at::_foreach_mul_(tensors, factor);
#else
  for (const auto& t : tensors) const_cast<at::Tensor&>(t).mul_(factor);
#endif
}

/// The slot of parameter `p` in a torch::optim::Optimizer's state map,
/// whose key is the parameter's TensorImpl address, as a string in LibTorch
/// 1.13 (formatted as the optimizer formats it) and possibly as a pointer
/// in later versions.
template <class Map>
auto& optimizer_state_slot(Map& state, const at::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    return state[c10::str(p.unsafeGetTensorImpl())];
  } else {
    return state[p.unsafeGetTensorImpl()];
  }
}

/// True where LibTorch has at::_fused_adamw_ (2.0 added it; 1.13 has only
/// at::_fused_adam_, both CUDA kernels).
inline constexpr bool kHasFusedAdamW = SEMIFER_TORCH_AT_LEAST(2, 0);

/// at::_fused_adam_ (decoupled false) or at::_fused_adamw_ (true): one
/// kernel launch per chunk of parameters; `steps` are [] float tensors on
/// the device, already counting this step.
inline void fused_adam_(at::TensorList params, at::TensorList grads,
                        at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                        at::TensorList steps, double lr, double beta1,
                        double beta2, double weight_decay, double eps,
                        bool decoupled) {
  if (decoupled) {
#if SEMIFER_TORCH_AT_LEAST(2, 0)
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr,
                      beta1, beta2, weight_decay, eps, /*amsgrad=*/false,
                      /*maximize=*/false);
    return;
#else
    TORCH_CHECK(false, "this LibTorch has no fused AdamW kernel");
#endif
  }
  at::_fused_adam_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr, beta1,
                   beta2, weight_decay, eps, /*amsgrad=*/false,
                   /*maximize=*/false);
}

/// True where at::_fused_adam_ and at::_fused_adamw_ take the learning rate
/// as a device tensor (LibTorch 2.2; PyTorch's "tensor_lr" overloads): a
/// captured CUDA graph then replays with the rate its caller fills in.
inline constexpr bool kHasTensorLrFusedAdam = SEMIFER_CAN_CAPTURE_STEPS;

/// fused_adam_ with the learning rate read from `lr`, a [] float32 tensor
/// on the parameters' device (kHasTensorLrFusedAdam).
inline void fused_adam_(at::TensorList params, at::TensorList grads,
                        at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                        at::TensorList steps, const at::Tensor& lr,
                        double beta1, double beta2, double weight_decay,
                        double eps, bool decoupled) {
#if SEMIFER_CAN_CAPTURE_STEPS
  if (decoupled) {
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr,
                      beta1, beta2, weight_decay, eps, /*amsgrad=*/false,
                      /*maximize=*/false);
  } else {
    at::_fused_adam_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr, beta1,
                     beta2, weight_decay, eps, /*amsgrad=*/false,
                     /*maximize=*/false);
  }
#else
  (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps,
      (void)lr, (void)beta1, (void)beta2, (void)weight_decay, (void)eps,
      (void)decoupled;
  TORCH_CHECK(false, "LibTorch ", TORCH_VERSION,
              " has no fused Adam with a tensor learning rate (2.2 added it)");
#endif
}

/// at::cuda::CUDAGraph::capture_begin in capture mode `mode` (a
/// cudaStreamCaptureMode) where it takes one (LibTorch 2.x), else in its
/// only (global) mode. Templates, so that this header needs no CUDA.
template <class Graph, class Mode, class = void>
struct HasCaptureMode : std::false_type {};
template <class Graph, class Mode>
struct HasCaptureMode<
    Graph, Mode,
    std::void_t<decltype(std::declval<Graph&>().capture_begin(
        std::declval<Graph&>().pool(), std::declval<Mode>()))>>
    : std::true_type {};
template <class Graph, class Mode>
void capture_begin(Graph& graph, Mode mode) {
  if constexpr (HasCaptureMode<Graph, Mode>::value) {
    graph.capture_begin(decltype(graph.pool()){0, 0}, mode);
  } else {
    graph.capture_begin();
  }
}

/// CUDA's float32 speed switches: TF32 tensor cores in matrix products and
/// convolutions, and cuDNN's benchmark mode (the fastest algorithm per
/// shape, timed on first use).
inline void set_cuda_speed(bool tf32, bool cudnn_benchmark) {
  auto& ctx = at::globalContext();
  ctx.setAllowTF32CuBLAS(tf32);
  ctx.setAllowTF32CuDNN(tf32);
  ctx.setBenchmarkCuDNN(cudnn_benchmark);
}

}  // namespace semifer::compat

// c10d, for the one header that defines SEMIFER_WITH_C10D before including
// this header (src/train/group_impl.h; its headers are heavy). LibTorch
// 2.0 split the collective backends (Gloo, NCCL) out of ProcessGroup into
// Backend; both declare allreduce(std::vector<at::Tensor>&, options),
// broadcast and allgather with the same signatures, and Work::wait.
#ifdef SEMIFER_WITH_C10D
#if SEMIFER_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
namespace semifer::compat {
using C10dBackend = c10d::Backend;
}
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
namespace semifer::compat {
using C10dBackend = c10d::ProcessGroup;
}
#endif
namespace semifer::compat {
template <class B, class = void>
struct HasShutdown : std::false_type {};
template <class B>
struct HasShutdown<B, std::void_t<decltype(std::declval<B&>().shutdown()),
                                  decltype(std::declval<B&>().abort())>>
    : std::true_type {};
/// Ends a backend's communicators before its destructor: shutdown()
/// (flushes its work) when `clean`, else abort(). Recent LibTorch declares
/// both on Backend (NCCL's destructor warns when neither was called); where
/// it does not (1.13), the destructor ends them and this does nothing.
template <class B>
void end_backend(B& backend, bool clean) {
  if constexpr (HasShutdown<B>::value) {
    if (clean) {
      backend.shutdown();
    } else {
      backend.abort();
    }
  } else {
    (void)backend, (void)clean;
  }
}
}  // namespace semifer::compat
#endif
