// data::read_folder: the input lists files to create below a fresh root,
// one relative path a line (at most 16 files, 3 levels, 32 bytes a name;
// "", "." and ".." parts are dropped). A path ending in an image extension
// gets a small valid image, others an empty file. Layout "classes" for even
// sizes, "flat" for odd ones.
#include <filesystem>

#include "format_fuzz.h"
#include "semifer/io/image.h"
#include "semifer/util/strings.h"

using namespace semifer;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path root = fs::path(fuzz::scratch_dir()) / "root";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root);
  const std::string text(reinterpret_cast<const char*>(data), size);
  int files = 0;
  for (std::string_view line : util::split(text, '\n')) {
    if (files >= 16) break;
    fs::path rel;
    int depth = 0;
    for (std::string_view part : util::split(line, '/')) {
      if (part.empty() || part == "." || part == ".." || part.size() > 32 ||
          part.find('\0') != std::string_view::npos || ++depth > 3)
        continue;
      rel /= std::string(part);
    }
    if (rel.empty()) continue;
    const fs::path path = root / rel;
    fs::create_directories(path.parent_path(), ec);
    if (ec || fs::exists(path, ec)) continue;
    ++files;
    if (io::has_image_extension(path.string())) {
      fuzz::ensure_image(path.string());
    } else {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (f) std::fclose(f);
    }
  }
  data::SourceConfig config;
  config.format = data::Format::kFolder;
  config.root = root.string();
  config.layout = size % 2 == 0 ? "classes" : "flat";
  return fuzz::read_both_policies(config);
}
