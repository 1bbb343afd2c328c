// Aff-Wild2 EXPR annotations: <annotations>/<video>.txt, a header line, then
// one label per frame (-1 = not annotated); frame n is
// <images>/<video>/%05d.jpg.
#include <algorithm>
#include <filesystem>

#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/io/frame_names.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::data {

static_assert(kMaxFrame == io::kMaxFrameNumber,
              "the data sets' and the videos' frame limits are one number");

namespace {

bool is_expected_header(std::string_view line) {
  std::string compact;
  for (char c : util::to_lower(util::trim(line))) {
    if (c != ' ') compact += c;
  }
  return compact ==
         "neutral,anger,disgust,fear,happiness,sadness,surprise,other";
}

// Frame numbers that have an image, from one listing of the video's folder
// (a stat per frame would cost seconds on the 2.7M frames of Aff-Wild2). A
// video without a folder has no images; a folder that cannot be listed
// (permissions) is an image error, not a video of missing frames.
std::vector<bool> frames_with_images(const std::string& dir,
                                     detail::TableBuilder& builder) {
  std::vector<bool> present;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec != std::errc::no_such_file_or_directory)
      builder.unreadable(dir, ec.message());
    return present;
  }
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < 5 ||
        util::to_lower(name.substr(name.size() - 4)) != ".jpg")
      continue;
    auto n = util::parse_int(std::string_view(name).substr(0, name.size() - 4));
    if (!n || *n <= 0 || *n > kMaxFrame) continue;
    if (present.size() <= static_cast<size_t>(*n))
      present.resize(*n + 1, false);
    present[*n] = true;
  }
  return present;
}

}  // namespace

ReadResult read_affwild2(const SourceConfig& config) {
  detail::require_dir(config.annotations, "Aff-Wild2 annotation folder");
  detail::require_dir(config.images, "Aff-Wild2 image folder");
  detail::TableBuilder builder(config);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(config.annotations)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  SEMIFER_CHECK(!files.empty(), "Aff-Wild2 annotation folder ",
                config.annotations, " holds no <video>.txt files");
  const bool keep_unannotated =
      config.role == Role::kLabeled && config.unannotated_to_unlabeled;

  for (const std::string& file : files) {
    const std::string video = fs::path(file).stem().string();
    const std::vector<std::string> lines = util::read_lines(file);
    if (lines.empty() || !is_expected_header(lines[0])) {
      // A wrong header usually means a wrong folder (the VA or AU track);
      // reading on would mislabel every frame.
      builder.malformed(file, 1,
                        str("expected the header 'Neutral,Anger,Disgust,Fear,"
                            "Happiness,Sadness,Surprise,Other', got '",
                            lines.empty() ? "" : lines[0], "'"));
      continue;
    }
    const std::string frame_dir = util::join_path(config.images, video);
    if (lines.size() - 1 > static_cast<size_t>(kMaxFrame)) {
      builder.malformed(file, kMaxFrame + 2,
                        str("more than ", kMaxFrame, " frames"));
      continue;
    }
    const std::vector<bool> present = frames_with_images(frame_dir, builder);
    auto& table = builder.table();
    table.videos.push_back(video);
    // Line n after the header is frame n; one blank last line is tolerated.
    size_t listed = lines.size() - 1;
    if (listed > 0 && util::trim(lines.back()).empty()) --listed;
    table.video_frames.push_back(static_cast<int32_t>(listed));
    const auto video_id = static_cast<int32_t>(table.videos.size() - 1);
    for (size_t i = 1; i < lines.size(); ++i) {
      const auto frame = static_cast<int32_t>(i);
      auto label = util::parse_int(lines[i]);
      if (!label) {
        if (util::trim(lines[i]).empty() && i + 1 == lines.size()) break;
        builder.malformed(
            file, i + 1,
            str("expected a label in -1..7, got '", lines[i], "'"));
        continue;
      }
      if (*label < -1 || *label > 7) {
        builder.malformed(
            file, i + 1, str("unknown label id ", *label, " (expected -1..7)"));
        continue;
      }
      char name[32];
      std::snprintf(name, sizeof(name), "%05d.jpg", frame);
      std::string path = util::join_path(frame_dir, name);
      if (static_cast<size_t>(frame) >= present.size() || !present[frame]) {
        // Aff-Wild2 has no image where the face detector found no face; such
        // frames are expected, so they are counted, never an error.
        builder.drop("missing_frame", path);
        continue;
      }
      if (*label == -1 && !keep_unannotated) {
        builder.drop("unannotated", str(file, ":", i + 1));
        continue;
      }
      Sample s;
      s.path = builder.add_path(std::move(path));
      s.video = video_id;
      s.frame = frame;
      s.label = static_cast<int8_t>(*label);
      builder.add(s);
    }
  }
  return builder.finish();
}

}  // namespace semifer::data
