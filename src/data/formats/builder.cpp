#include "builder.h"

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
  if (config_.on_annotation_error == OnError::kFail) fail(where, ": ", why);
  skips_.add("malformed_line", str(where, ": ", why));
}

bool TableBuilder::image_exists(const std::string& path,
                                const std::string& where) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return true;
  if (config_.on_image_error == OnError::kFail) {
    fail(where, ": image file ", path, " does not exist");
  }
  skips_.add("missing_image", path);
  return false;
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
