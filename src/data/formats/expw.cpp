// ExpW: label.lst lines "image_name face_id top left right bottom confidence
// label"; one image may hold several faces.
#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

ReadResult read_expw(const SourceConfig& config) {
  detail::require_file(config.list, "ExpW label list");
  detail::require_dir(config.images, "ExpW image folder");
  detail::TableBuilder builder(config);
  static const int kToCanonical[7] = {kAnger,   kDisgust,  kFear,   kHappiness,
                                      kSadness, kSurprise, kNeutral};
  const std::vector<std::string> lines = util::read_lines(config.list);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    auto f = util::split_ws(lines[i]);
    if (f.empty()) continue;
    if (f.size() != 8) {
      builder.malformed(config.list, line,
                        str("expected 8 fields (image face_id top left right "
                            "bottom confidence label), got ",
                            f.size()));
      continue;
    }
    auto top = util::parse_int(f[2]), left = util::parse_int(f[3]),
         right = util::parse_int(f[4]), bottom = util::parse_int(f[5]);
    auto label = util::parse_int(f[7]);
    // Bounded before subtracting: int64 extremes would overflow.
    constexpr int64_t kFar = int64_t{1} << 40;
    const bool near = top && left && right && bottom && *top >= 0 &&
                      *left >= 0 && *right < kFar && *bottom < kFar;
    const auto face =
        near ? detail::face_box(*left, *top, *right - *left, *bottom - *top)
             : std::nullopt;
    if (!face || *right <= *left || *bottom <= *top) {
      builder.malformed(config.list, line, "bad face box");
      continue;
    }
    if (!label || *label < 0 || *label > 6) {
      builder.malformed(config.list, line,
                        str("unknown label id '", f[7], "' (expected 0..6)"));
      continue;
    }
    const std::string where = str(config.list, ":", line);
    const std::string path = util::join_path(config.images, std::string(f[0]));
    if (!builder.image_exists(path, where)) continue;
    Sample s;
    s.path = builder.add_path(path);
    s.label = static_cast<int8_t>(kToCanonical[*label]);
    s.box = *face;
    builder.add(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
