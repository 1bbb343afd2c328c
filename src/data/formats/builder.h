// Shared plumbing of the format readers (private to src/data/formats).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "semifer/data/source.h"
#include "semifer/io/image.h"

namespace semifer::data::detail {

/// Collects one source's samples and applies its error policy.
class TableBuilder {
 public:
  explicit TableBuilder(const SourceConfig& config);

  SampleTable& table() { return *table_; }
  Skips& skips() { return skips_; }
  const SourceConfig& config() const { return config_; }

  /// A malformed annotation at `file`:`line`: throws "file:line: why" under
  /// on_error fail, else counts it under "malformed_line". `why` is cut to
  /// 240 bytes with unprintable bytes escaped (util::excerpt): it may quote
  /// a line of any length and content.
  void malformed(const std::string& file, size_t line, const std::string& why);

  /// Checks that an image file exists and is a regular file. Missing:
  /// throws (image policy fail) or counts "missing_image" and returns
  /// false; there but unreadable or not a regular file (a FIFO): the same
  /// with the reason. `where` is "file:line".
  bool image_exists(const std::string& path, const std::string& where);

  /// An image or image folder that exists but cannot be read (`why`:
  /// "Permission denied"): throws (image policy fail) or counts
  /// "unreadable_image".
  void unreadable(const std::string& path, const std::string& why);

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

/// A face box read from an annotation, or nothing when it is not one: the
/// origin must lie in [0, 2^20) and the sides in [1, 2^20] (values above
/// int32 would otherwise wrap to a 1x1 crop; a negative side is no box).
std::optional<io::Box> face_box(int64_t x, int64_t y, int64_t w, int64_t h);

/// Throws "<what> <path> does not exist" unless `path` is a directory.
void require_dir(const std::string& path, const std::string& what);
/// Throws "<what> <path> does not exist" unless `path` is a regular file.
void require_file(const std::string& path, const std::string& what);

}  // namespace semifer::data::detail
