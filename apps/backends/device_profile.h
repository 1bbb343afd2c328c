// Where a device's time goes, from LibTorch's own profiler (Kineto, the
// engine of torch.profiler): `semifer bench train --profile` on CUDA, where
// the host's view (launch times) says nothing of the kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semifer::train {

/// The kernels and copies (or, for tests, the CPU operations) a
/// DeviceProfile saw, summed by name.
struct DeviceTimes {
  struct Entry {
    std::string name;
    double seconds = 0;
    int64_t calls = 0;
  };
  std::vector<Entry> by_name;  ///< largest first
  double busy_seconds = 0;     ///< every entry together
  double nccl_seconds = 0;     ///< entries whose name contains "nccl"
};

/// True where this build has LibTorch's profiler API (CMake compiles
/// device_profile.cpp against it at configure time; its C++ signatures move
/// between LibTorch versions).
bool device_profile_available();

/// Records while it lives (one at a time in a process): with `cuda` the
/// CUDA device's kernels, copies and fills (the GPU's busy time; NCCL's
/// collectives among them), else the CPU operations of this thread, nested
/// ones counted again (for tests). Throws semifer::Error where
/// device_profile_available() is false.
class DeviceProfile {
 public:
  explicit DeviceProfile(bool cuda);
  ~DeviceProfile();
  DeviceProfile(const DeviceProfile&) = delete;
  DeviceProfile& operator=(const DeviceProfile&) = delete;

  /// Stops recording and sums what was recorded (once).
  DeviceTimes stop();

 private:
  bool cuda_;
  bool on_ = false;
};

}  // namespace semifer::train
