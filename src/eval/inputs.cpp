#include "semifer/eval/inputs.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "semifer/io/frame_names.h"
#include "semifer/io/image.h"
#include "semifer/util/error.h"
#include "semifer/util/files.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::eval {

namespace {

int32_t frame_number(const fs::path& path) {
  return static_cast<int32_t>(io::frame_number(path));
}

using io::folder_name;

}  // namespace

ImageSet find_images(const std::vector<std::string>& inputs) {
  SEMIFER_CHECK(!inputs.empty(), "no input images or folders given");
  auto table = std::make_shared<data::SampleTable>();
  table->source = "inputs";
  table->format = data::Format::kFolder;
  auto add = [&](const std::string& path, int32_t video, int32_t frame) {
    data::Sample s;
    s.path = static_cast<int32_t>(table->paths.size());
    s.video = video;
    s.frame = frame;
    table->paths.push_back(path);
    table->samples.push_back(s);
  };

  for (const std::string& input : inputs) {
    std::error_code ec;
    const fs::file_status status = fs::status(input, ec);
    SEMIFER_CHECK(fs::exists(status), "input ", input, " does not exist");
    if (!fs::is_directory(status)) {
      // A FIFO or a device would block or never end.
      SEMIFER_CHECK(fs::is_regular_file(status), "input ", input,
                    " is not a regular file or a folder");
      add(input, -1, -1);
      continue;
    }
    // Images below the folder, grouped by the folder that holds them; each
    // real folder once, however many links lead to it.
    std::map<std::string, std::vector<fs::path>> by_dir;
    for (const auto& file : util::walk_files(input).files) {
      const fs::path path(file);
      if (io::has_image_extension(file))
        by_dir[path.parent_path().string()].push_back(path);
    }
    SEMIFER_CHECK(!by_dir.empty(), "folder ", input,
                  " holds no images (.jpg, .jpeg, .png)");
    for (auto& [dir, files] : by_dir) {
      std::sort(files.begin(), files.end());
      const bool is_video =
          std::all_of(files.begin(), files.end(),
                      [](const fs::path& f) { return frame_number(f) > 0; });
      int32_t video = -1;
      if (is_video) {
        video = static_cast<int32_t>(table->videos.size());
        table->videos.push_back(folder_name(dir));
        int32_t last = 0;
        for (const auto& f : files) {
          const int32_t frame = frame_number(f);
          // Buffers and ABAW files hold a line per frame up to the last.
          SEMIFER_CHECK(frame <= data::kMaxFrame, f.string(), ": frame number ",
                        frame, " is above ", data::kMaxFrame,
                        " (frames are numbered 1, 2, ... within a video)");
          last = std::max(last, frame);
        }
        table->video_frames.push_back(last);
      }
      for (const auto& f : files)
        add(f.string(), video, is_video ? frame_number(f) : -1);
    }
  }

  ImageSet set;
  data::SourceReport report;
  report.name = table->source;
  report.role = data::Role::kUnlabeled;
  set.dataset.tables.push_back(table);
  set.dataset.reports.push_back(report);
  set.items.reserve(table->samples.size());
  for (size_t i = 0; i < table->samples.size(); ++i)
    set.items.push_back({0, static_cast<uint32_t>(i), -1});
  return set;
}

}  // namespace semifer::eval
