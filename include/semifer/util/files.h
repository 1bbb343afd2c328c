#pragma once

#include <string>
#include <vector>

namespace semifer::util {

/// What walk_files found below a folder.
struct FolderWalk {
  std::vector<std::string> files;  ///< regular files, sorted
  /// Links to a folder that was walked already or is excluded (a loop such
  /// as `ln -s . loop`, a link to a sibling class folder): not walked again.
  std::vector<std::string> repeated_folders;
  /// Entries that are neither regular files nor folders (FIFOs, sockets,
  /// devices, broken links): never opened.
  std::vector<std::string> others;
};

/// Every regular file below `dir`, following links to folders, but each
/// real folder (device and inode) at most once: a folder reached twice,
/// through a loop or a second link, and every folder in `exclude` (and
/// below it) is not walked. Throws semifer::Error naming the folder when
/// `dir` or a folder below it cannot be listed (permissions).
FolderWalk walk_files(const std::string& dir,
                      const std::vector<std::string>& exclude = {});

}  // namespace semifer::util
