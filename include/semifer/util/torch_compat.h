#pragma once

// The one place where differences between LibTorch versions live. semifer
// builds against Debian's LibTorch 1.13 (CPU) and against LibTorch 2.x (the
// pip wheel's C++ distribution, with CUDA). Code elsewhere uses only what
// this header provides when an API differs between the two.

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define SEMIFER_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||          \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

static_assert(SEMIFER_TORCH_AT_LEAST(1, 13), "semifer needs LibTorch >= 1.13");

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

}  // namespace semifer::compat

// c10d, for the one file that defines SEMIFER_WITH_C10D before including
// this header (src/train/distributed.cpp; its headers are heavy). LibTorch
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
#endif
