#include "semifer/util/files.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "semifer/util/error.h"

namespace fs = std::filesystem;

namespace semifer::util {

namespace {

using Identity = std::pair<dev_t, ino_t>;

// The real folder a path names (links followed), or nothing.
bool identity(const std::string& path, Identity& out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  out = {st.st_dev, st.st_ino};
  return true;
}

}  // namespace

FolderWalk walk_files(const std::string& dir,
                      const std::vector<std::string>& exclude) {
  FolderWalk walk;
  std::set<Identity> seen;
  for (const auto& e : exclude) {
    Identity id;
    if (identity(e, id)) seen.insert(id);
  }
  Identity root;
  SEMIFER_CHECK(identity(dir, root), "cannot list ", dir,
                ": not a folder or not readable");
  seen.insert(root);
  // Depth first with an explicit stack: no recursion depth to exhaust.
  std::vector<std::string> stack = {dir};
  while (!stack.empty()) {
    const std::string folder = std::move(stack.back());
    stack.pop_back();
    std::error_code ec;
    fs::directory_iterator it(folder, ec);
    SEMIFER_CHECK(!ec, "cannot list ", folder, ": ", ec.message());
    for (fs::directory_iterator end; it != end; it.increment(ec)) {
      SEMIFER_CHECK(!ec, "cannot list ", folder, ": ", ec.message());
      const std::string path = it->path().string();
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {
        walk.others.push_back(path);  // a broken link
        continue;
      }
      if (S_ISREG(st.st_mode)) {
        walk.files.push_back(path);
      } else if (S_ISDIR(st.st_mode)) {
        if (seen.insert({st.st_dev, st.st_ino}).second) {
          stack.push_back(path);
        } else {
          walk.repeated_folders.push_back(path);
        }
      } else {
        walk.others.push_back(path);
      }
    }
  }
  std::sort(walk.files.begin(), walk.files.end());
  std::sort(walk.repeated_folders.begin(), walk.repeated_folders.end());
  std::sort(walk.others.begin(), walk.others.end());
  return walk;
}

}  // namespace semifer::util
