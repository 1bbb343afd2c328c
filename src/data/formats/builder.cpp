#include "builder.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::data::detail {

TableBuilder::TableBuilder(const SourceConfig& config)
    : config_(config), table_(std::make_shared<SampleTable>()) {
  table_->source = config.name;
  table_->format = config.format;
}

void TableBuilder::malformed(const std::string& file, size_t line,
                             const std::string& why) {
  const std::string where = str(file, ":", line);
  const std::string shown = util::excerpt(why, 240);
  if (config_.on_annotation_error == OnError::kFail) fail(where, ": ", shown);
  skips_.add("malformed_line", str(where, ": ", shown));
}

bool TableBuilder::image_exists(const std::string& path,
                                const std::string& where) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISREG(st.st_mode)) return true;
    if (config_.on_image_error == OnError::kFail)
      fail(where, ": image file ", path, " is not a regular file");
    skips_.add("unreadable_image", path);
    return false;
  }
  const int e = errno;
  if (e != ENOENT && e != ENOTDIR) {
    if (config_.on_image_error == OnError::kFail)
      fail(where, ": cannot read image file ", path, ": ", std::strerror(e));
    skips_.add("unreadable_image", path);
    return false;
  }
  if (config_.on_image_error == OnError::kFail) {
    fail(where, ": image file ", path, " does not exist");
  }
  skips_.add("missing_image", path);
  return false;
}

void TableBuilder::unreadable(const std::string& path, const std::string& why) {
  if (config_.on_image_error == OnError::kFail)
    fail("cannot read ", path, ": ", why);
  skips_.add("unreadable_image", str(path, ": ", why));
}

int32_t TableBuilder::add_path(std::string path) {
  table_->paths.push_back(std::move(path));
  return static_cast<int32_t>(table_->paths.size() - 1);
}

ReadResult TableBuilder::finish() {
  ReadResult result;
  result.table = std::move(table_);
  result.skips = std::move(skips_);
  return result;
}

std::optional<io::Box> face_box(int64_t x, int64_t y, int64_t w, int64_t h) {
  constexpr int64_t kMaxSide = int64_t{1} << 20;
  if (x < 0 || y < 0 || x >= kMaxSide || y >= kMaxSide) return std::nullopt;
  if (w < 1 || h < 1 || w > kMaxSide || h > kMaxSide) return std::nullopt;
  return io::Box{static_cast<int32_t>(x), static_cast<int32_t>(y),
                 static_cast<int32_t>(w), static_cast<int32_t>(h)};
}

void require_dir(const std::string& path, const std::string& what) {
  SEMIFER_CHECK(!path.empty(), what, " is not set");
  std::error_code ec;
  SEMIFER_CHECK(fs::is_directory(path, ec), what, " ", path,
                " does not exist or is not a folder");
}

void require_file(const std::string& path, const std::string& what) {
  SEMIFER_CHECK(!path.empty(), what, " is not set");
  std::error_code ec;
  SEMIFER_CHECK(fs::is_regular_file(path, ec), what, " ", path,
                " does not exist or is not a file");
}

}  // namespace semifer::data::detail
