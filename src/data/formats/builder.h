// Shared plumbing of the format readers (private to src/data/formats).
#pragma once

#include <memory>
#include <string>

#include "semifer/data/source.h"

namespace semifer::data::detail {

/// Collects one source's samples and applies its error policy.
class TableBuilder {
 public:
  explicit TableBuilder(const SourceConfig& config);

  SampleTable& table() { return *table_; }
  Skips& skips() { return skips_; }
  const SourceConfig& config() const { return config_; }

  /// A malformed annotation at `file`:`line`: throws "file:line: why" under
  /// on_error fail, else counts it under "malformed_line".
  void malformed(const std::string& file, size_t line, const std::string& why);

  /// Checks that an image file exists. Missing: throws (image policy fail)
  /// or counts "missing_image" and returns false. `where` is "file:line".
  bool image_exists(const std::string& path, const std::string& where);

  /// Counts a sample dropped for `reason` (its label is outside the label
  /// space, ...), with `where` as the example.
  void drop(const std::string& reason, const std::string& where) {
    skips_.add(reason, where);
  }

  /// Registers an image path and returns its index for Sample::path.
  int32_t add_path(std::string path);

  /// Adds a sample.
  void add(const Sample& sample) { table_->samples.push_back(sample); }

  ReadResult finish();

 private:
  const SourceConfig& config_;
  std::shared_ptr<SampleTable> table_;
  Skips skips_;
};

/// Throws "<what> <path> does not exist" unless `path` is a directory.
void require_dir(const std::string& path, const std::string& what);
/// Throws "<what> <path> does not exist" unless `path` is a regular file.
void require_file(const std::string& path, const std::string& what);

}  // namespace semifer::data::detail
