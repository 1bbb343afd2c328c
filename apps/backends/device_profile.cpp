#include "backends/device_profile.h"

#include <algorithm>
#include <map>
#include <utility>

// CMake defines SEMIFER_WITH_KINETO where this file compiled against
// LibTorch's profiler API at configure time (it compiles this very file for
// that with the macro set); elsewhere the profile is unavailable.
#ifdef SEMIFER_WITH_KINETO
#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>
#endif

#include "semifer/util/error.h"

namespace semifer::train {

#ifdef SEMIFER_WITH_KINETO

namespace {

namespace kineto = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

// LibTorch 2.x's KinetoEvent counts nanoseconds where the older ones count
// microseconds.
template <class Event>
auto seconds_of(const Event& e, int) -> decltype(e.durationNs(), double()) {
  return static_cast<double>(e.durationNs()) * 1e-9;
}
template <class Event>
double seconds_of(const Event& e, long) {
  return static_cast<double>(e.durationUs()) * 1e-6;
}

std::set<impl::ActivityType> activities(bool cuda) {
  if (cuda) return {impl::ActivityType::CPU, impl::ActivityType::CUDA};
  return {impl::ActivityType::CPU};
}

}  // namespace

bool device_profile_available() { return true; }

DeviceProfile::DeviceProfile(bool cuda) : cuda_(cuda) {
  const impl::ProfilerConfig config(impl::ProfilerState::KINETO);
  kineto::prepareProfiler(config, activities(cuda_));
  kineto::enableProfiler(config, activities(cuda_));
  on_ = true;
}

DeviceProfile::~DeviceProfile() {
  if (!on_) return;
  try {
    kineto::disableProfiler();
  } catch (const std::exception&) {
    // Destruction after a failure: the profile is not wanted any more.
  }
}

DeviceTimes DeviceProfile::stop() {
  SEMIFER_CHECK(on_, "the device profile was already stopped");
  on_ = false;
  const auto result = kineto::disableProfiler();
  const c10::DeviceType wanted = cuda_ ? c10::kCUDA : c10::kCPU;
  std::map<std::string, DeviceTimes::Entry> sums;
  DeviceTimes out;
  for (const auto& e : result->events()) {
    if (e.deviceType() != wanted) continue;
    const double s = seconds_of(e, 0);
    auto& entry = sums[e.name()];
    entry.name = e.name();
    entry.seconds += s;
    ++entry.calls;
    out.busy_seconds += s;
    if (e.name().find("nccl") != std::string::npos) out.nccl_seconds += s;
  }
  for (auto& [name, entry] : sums) out.by_name.push_back(std::move(entry));
  std::sort(out.by_name.begin(), out.by_name.end(),
            [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  return out;
}

#else

bool device_profile_available() { return false; }

DeviceProfile::DeviceProfile(bool cuda) : cuda_(cuda) {
  SEMIFER_CHECK(false,
                "this semifer was built without LibTorch's profiler API "
                "(CMake's check of apps/backends/device_profile.cpp failed; "
                "see CMakeCache.txt's SEMIFER_DEVICE_PROFILE)");
}

DeviceProfile::~DeviceProfile() = default;

DeviceTimes DeviceProfile::stop() { return {}; }

#endif

}  // namespace semifer::train
