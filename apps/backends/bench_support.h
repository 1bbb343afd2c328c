#pragma once

// What the benchmark back-ends share: a scratch folder and the median.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace semifer::bench {

/// A folder in the system's temporary directory, named `prefix` and the
/// process id, emptied when made and removed however the benchmark ends.
struct ScratchFolder {
  std::filesystem::path path;
  explicit ScratchFolder(const std::string& prefix)
      : path(std::filesystem::temp_directory_path() /
             (prefix + std::to_string(static_cast<long>(::getpid())))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
};

/// The median of `v` (the mean of the middle two for an even count); 0 for
/// none.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace semifer::bench
