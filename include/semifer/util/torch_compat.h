#pragma once

// The one place where differences between LibTorch versions live. semifer
// builds against Debian's LibTorch 1.13 (CPU) and against LibTorch 2.x (the
// pip wheel's C++ distribution, with CUDA). Code elsewhere uses only what
// this header provides when an API differs between the two.

#include <torch/version.h>

#define SEMIFER_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||          \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

static_assert(SEMIFER_TORCH_AT_LEAST(1, 13), "semifer needs LibTorch >= 1.13");

namespace semifer::compat {

/// "major.minor.patch" of the LibTorch semifer was built against.
inline const char* torch_version() { return TORCH_VERSION; }

}  // namespace semifer::compat
