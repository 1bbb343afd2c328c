#pragma once

#include <cstdint>
#include <string>

namespace semifer::util {

/// Resolves a device name as configs and flags spell it: "auto" (the first
/// CUDA device when LibTorch has one, else the CPU), "cpu", "cuda" or
/// "cuda:N". Returns "cpu" or "cuda:N" (for torch::Device). Throws
/// semifer::Error when CUDA is asked for and this LibTorch has no CUDA
/// device, or the name is unknown.
std::string resolve_device(const std::string& name);

/// True when this LibTorch was built with CUDA and sees a device.
bool cuda_available();
/// The CUDA devices this LibTorch sees (0 for a CPU build).
int cuda_device_count();

/// The most bytes of tensors the CUDA caching allocator held at once on
/// CUDA device `index` since the last reset_peak_device_memory (Python's
/// torch.cuda.max_memory_allocated); -1 for an index below 0 or a LibTorch
/// without CUDA.
int64_t peak_device_memory(int index);
/// Starts a new peak for peak_device_memory (nothing without CUDA).
void reset_peak_device_memory(int index);

/// Makes CUDA device `index` this thread's current device, as Python's
/// torch.cuda.set_device (nothing without CUDA).
void set_cuda_device(int index);

/// The most threads a setting or flag may ask for (loader, decoding and
/// intra-op threads): more only exhausts process limits.
inline constexpr int kMaxThreads = 256;

/// Sets LibTorch's intra-op thread count and returns it: `n` <= 0 or more
/// than the logical CPUs: one per logical CPU
/// (std::thread::hardware_concurrency); OpenMP aborts the process when it
/// cannot start a thread, and more threads than CPUs only slow a forward. The
/// `semifer` executable calls this at start unless OMP_NUM_THREADS is set:
/// OpenMP runtimes can start with a single thread where they misread the
/// machine (seen on the development VM: omp_get_max_threads() is 1 on 2 cores,
/// which halved training speed).
int set_intra_op_threads(int n);

}  // namespace semifer::util
