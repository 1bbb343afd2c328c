#include "semifer/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "semifer/util/error.h"

namespace semifer::util {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  // O_EXCL: the temporary file is always a new one of this writer's own, so
  // two writers of one path in a process (or a file someone placed there)
  // never share it; a name already taken (another thread's, or one a
  // crashed process of the same pid left) moves on to "<pid>.1", "<pid>.2".
  const std::string base = path_ + ".tmp." + std::to_string(::getpid());
  constexpr int kMaxNames = 1000;
  for (int n = 0; n < kMaxNames; ++n) {
    tmp_ = n == 0 ? base : base + "." + std::to_string(n);
    fd_ = ::open(tmp_.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ >= 0) return;
    if (errno != EEXIST) break;
  }
  const int e = errno;
  fail("cannot write ", path_, ": ", std::strerror(e));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::fail_and_remove(const char* what, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  fail("cannot write ", path_, ": ", what, ": ", std::strerror(error),
       " (nothing was replaced)");
}

size_t AtomicFile::write(const void* data, size_t size) {
  SEMIFER_CHECK(fd_ >= 0 && !committed_, "cannot write ", path_,
                ": the file is closed");
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_and_remove("write failed", n < 0 ? errno : ENOSPC);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return size;
}

void AtomicFile::commit(Durability durability) {
  SEMIFER_CHECK(fd_ >= 0 && !committed_, "cannot write ", path_,
                ": the file is closed");
  const bool durable = durability == Durability::kDurable;
  if (durable && ::fsync(fd_) != 0) fail_and_remove("fsync failed", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail_and_remove("close failed", errno);
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail_and_remove("rename failed", errno);
  committed_ = true;
  // The rename itself is durable once the folder is synced.
  if (durable) sync_folder(std::filesystem::path(path_).parent_path().string());
}

void sync_folder(const std::string& dir) {
  const std::string d = dir.empty() ? "." : dir;
  const int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace semifer::util
