#include "semifer/io/frame_names.h"

#include <algorithm>

namespace fs = std::filesystem;

namespace semifer::io {

int64_t frame_number(const fs::path& path) {
  const std::string stem = path.stem().string();
  if (stem.empty() || stem.size() > 9 ||
      !std::all_of(stem.begin(), stem.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return 0;
  return std::stoll(stem);
}

std::string folder_name(const fs::path& dir) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(dir, ec);
  return (ec ? dir : canonical).filename().string();
}

}  // namespace semifer::io
