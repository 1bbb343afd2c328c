// Image folders: <root>/<class>/* (class folder names matched to the
// canonical names and their synonyms), or every image below root ("flat").
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/io/image.h"
#include "semifer/util/error.h"
#include "semifer/util/files.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::data {

namespace {

// Every image file below `dir`, sorted so tables do not depend on the order
// the file system lists entries in. Other files are counted, not read; a
// link back to a folder already read (a loop) or to another class's folder
// (which would relabel its images) is counted and not followed.
std::vector<std::string> list_images(const std::string& dir,
                                     detail::TableBuilder& builder,
                                     const std::vector<std::string>& others) {
  util::FolderWalk walk = util::walk_files(dir, others);
  for (const auto& path : walk.repeated_folders)
    builder.drop("repeated_folder_link", path);
  for (const auto& path : walk.others) builder.drop("not_a_regular_file", path);
  std::vector<std::string> out;
  for (auto& path : walk.files) {
    if (io::has_image_extension(path)) {
      out.push_back(std::move(path));
    } else {
      builder.drop("not_an_image", path);
    }
  }
  return out;
}

}  // namespace

ReadResult read_folder(const SourceConfig& config) {
  detail::require_dir(config.root, "image folder");
  detail::TableBuilder builder(config);
  std::string layout = config.layout;
  if (layout.empty())
    layout = config.role == Role::kUnlabeled ? "flat" : "classes";
  SEMIFER_CHECK(layout == "classes" || layout == "flat",
                "folder layout must be 'classes' or 'flat', got '", layout,
                "'");
  if (layout == "flat") {
    for (auto& path : list_images(config.root, builder, {})) {
      Sample s;
      s.path = builder.add_path(std::move(path));
      builder.add(s);
    }
    return builder.finish();
  }
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(config.root)) {
    if (entry.is_directory()) {
      class_dirs.push_back(entry.path());
    } else if (entry.is_regular_file()) {
      builder.drop("outside_class_folder", entry.path().string());
    }
  }
  std::sort(class_dirs.begin(), class_dirs.end());
  // Two class folders that are one real folder (`angry` a link to
  // `Happiness`): the real one is read, the link counted and not followed,
  // whichever sorts first.
  {
    std::vector<fs::path> order = class_dirs;
    std::stable_sort(order.begin(), order.end(),
                     [](const fs::path& a, const fs::path& b) {
                       return !fs::is_symlink(a) && fs::is_symlink(b);
                     });
    std::set<std::pair<dev_t, ino_t>> seen;
    std::set<fs::path> repeated;
    for (const auto& dir : order) {
      struct stat st;
      if (::stat(dir.c_str(), &st) == 0 &&
          !seen.insert({st.st_dev, st.st_ino}).second) {
        builder.drop("repeated_folder_link", dir.string());
        repeated.insert(dir);
      }
    }
    class_dirs.erase(std::remove_if(class_dirs.begin(), class_dirs.end(),
                                    [&](const fs::path& d) {
                                      return repeated.count(d) > 0;
                                    }),
                     class_dirs.end());
  }
  for (const auto& dir : class_dirs) {
    std::vector<std::string> siblings;
    for (const auto& other : class_dirs) {
      if (other != dir) siblings.push_back(other.string());
    }
    const std::string name = dir.filename().string();
    auto label = parse_expression(name);
    if (!label) {
      const std::string lower = util::to_lower(name);
      const std::string reason =
          lower == "contempt" ? "dropped_contempt" : "unknown_class_folder";
      for (const auto& path : list_images(dir.string(), builder, siblings)) {
        builder.drop(reason, path);
      }
      continue;
    }
    for (auto& path : list_images(dir.string(), builder, siblings)) {
      Sample s;
      s.path = builder.add_path(std::move(path));
      s.label = static_cast<int8_t>(*label);
      builder.add(s);
    }
  }
  SEMIFER_CHECK(!builder.table().samples.empty() ||
                    builder.skips().counts.count("unknown_class_folder") == 0,
                "image folder ", config.root,
                " has no class folder with a "
                "known expression name (Neutral, Anger, ..., or angry, happy, "
                "...); for a folder without classes use layout: flat");
  return builder.finish();
}

}  // namespace semifer::data
