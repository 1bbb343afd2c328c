#pragma once

#include <cstddef>
#include <string>

namespace semifer::util {

/// Whether a crash-safe write also survives a power cut: kDurable fsyncs
/// the file and its folder; kFast only renames (a crash leaves the old or
/// the new file, never half of one, but the new one may be lost).
enum class Durability { kDurable, kFast };

/// A file written crash-safely: the bytes go to a temporary file in the same
/// folder ("<path>.tmp.<pid>", created new with O_EXCL; "<path>.tmp.<pid>.N"
/// when that name is taken), which commit() flushes, fsyncs and renames
/// over `path` (then fsyncs the folder). Until commit() returns, `path` holds
/// its previous content or does not exist; a reader never sees half a file.
/// A failed write (a full disk, a file size limit) throws semifer::Error
/// naming `path` and the reason, in one line, and removes the temporary
/// file; so does destruction without commit().
class AtomicFile {
 public:
  /// Creates the temporary file. Throws semifer::Error naming `path`.
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends `size` bytes. Returns `size` (the signature of LibTorch's
  /// archive writer callbacks).
  size_t write(const void* data, size_t size);
  /// Flushes, fsyncs (kDurable), renames over the target (a link there is
  /// replaced, not followed) and fsyncs its folder (kDurable).
  void commit(Durability durability = Durability::kDurable);

  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail_and_remove(const char* what, int error);

  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

/// fsyncs a folder, so that a rename inside it is durable.
void sync_folder(const std::string& dir);

/// Writes `text` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace semifer::util
