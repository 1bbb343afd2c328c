#include "semifer/util/device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <thread>

#ifdef SEMIFER_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::util {

bool cuda_available() { return torch::cuda::is_available(); }

int cuda_device_count() {
  return static_cast<int>(torch::cuda::device_count());
}

int64_t peak_device_memory(int index) {
#ifdef SEMIFER_WITH_CUDA
  if (index < 0) return -1;
  // allocated_bytes[0]: StatType::AGGREGATE, every pool together.
  return c10::cuda::CUDACachingAllocator::getDeviceStats(index)
      .allocated_bytes[0]
      .peak;
#else
  (void)index;
  return -1;
#endif
}

void reset_peak_device_memory(int index) {
#ifdef SEMIFER_WITH_CUDA
  if (index >= 0) c10::cuda::CUDACachingAllocator::resetPeakStats(index);
#else
  (void)index;
#endif
}

void set_cuda_device(int index) {
#ifdef SEMIFER_WITH_CUDA
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
#else
  (void)index;
#endif
}

int set_intra_op_threads(int n) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0 || (cores > 0 && n > cores)) n = cores;
  if (n > 0) at::set_num_threads(n);
  return at::get_num_threads();
}

std::string resolve_device(const std::string& name) {
  const std::string n = to_lower(trim(name));
  if (n == "cpu") return "cpu";
  if (n == "auto") return cuda_available() ? "cuda:0" : "cpu";
  int64_t index = 0;
  if (n.rfind("cuda:", 0) == 0) {
    const auto parsed = parse_int(std::string_view(n).substr(5));
    SEMIFER_CHECK(parsed && *parsed >= 0, "unknown device '", name,
                  "' (expected auto, cpu, cuda or cuda:N)");
    index = *parsed;
  } else {
    SEMIFER_CHECK(n == "cuda", "unknown device '", name,
                  "' (expected auto, cpu, cuda or cuda:N)");
  }
  SEMIFER_CHECK(cuda_available(), "device '", name,
                "' asked for, but this LibTorch has no CUDA device (it is ",
                "a CPU build, or no GPU is visible); use cpu or auto");
  const int count = cuda_device_count();
  SEMIFER_CHECK(index < count, "device '", name, "' asked for, but only ",
                count, " CUDA device(s) are visible");
  return str("cuda:", index);
}

}  // namespace semifer::util
