// RAF-DB basic: list_patition_label.txt lines "train_00001.jpg 5"; the aligned
// image of train_00001.jpg is train_00001_aligned.jpg.
#include <filesystem>

#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

ReadResult read_rafdb(const SourceConfig& config) {
  detail::require_file(config.list, "RAF-DB label list");
  detail::require_dir(config.images, "RAF-DB image folder");
  const std::string split =
      util::to_lower(config.split.empty() ? "all" : config.split);
  SEMIFER_CHECK(split == "all" || split == "train" || split == "test",
                "RAF-DB split must be train, test or all, got '", config.split,
                "'");
  detail::TableBuilder builder(config);
  static const int kToCanonical[8] = {-1,         kSurprise, kFear,  kDisgust,
                                      kHappiness, kSadness,  kAnger, kNeutral};
  const std::vector<std::string> lines = util::read_lines(config.list);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    auto f = util::split_ws(lines[i]);
    if (f.empty()) continue;
    if (f.size() != 2) {
      builder.malformed(config.list, line,
                        str("expected 'image label', got '", lines[i], "'"));
      continue;
    }
    auto label = util::parse_int(f[1]);
    if (!label || *label < 1 || *label > 7) {
      builder.malformed(config.list, line,
                        str("unknown label id '", f[1], "' (expected 1..7)"));
      continue;
    }
    const std::string name(f[0]);
    if (split != "all" && name.rfind(split + "_", 0) != 0) continue;
    const std::filesystem::path p(name);
    const std::string aligned =
        p.stem().string() + "_aligned" + p.extension().string();
    const std::string path = util::join_path(config.images, aligned);
    if (!builder.image_exists(path, str(config.list, ":", line))) continue;
    Sample s;
    s.path = builder.add_path(path);
    s.label = static_cast<int8_t>(kToCanonical[*label]);
    builder.add(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
