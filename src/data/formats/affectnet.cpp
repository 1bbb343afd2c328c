// AffectNet: training.csv / validation.csv, columns subDirectory_filePath,
// face_x, face_y, face_width, face_height, facial_landmarks, expression,
// valence, arousal.
#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

ReadResult read_affectnet(const SourceConfig& config) {
  detail::require_file(config.csv, "AffectNet csv");
  detail::require_dir(config.images, "AffectNet image folder");
  detail::TableBuilder builder(config);
  // Codes 0-6 are expressions; 7-10 are outside the label space.
  static const int kToCanonical[7] = {kNeutral, kHappiness, kSadness, kSurprise,
                                      kFear,    kDisgust,   kAnger};
  static const char* kDropped[4] = {"dropped_contempt", "dropped_none",
                                    "dropped_uncertain", "dropped_no_face"};
  const std::vector<std::string> lines = util::read_lines(config.csv);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    if (util::trim(lines[i]).empty()) continue;
    auto fields = util::split_csv(lines[i]);
    if (!fields) {
      builder.malformed(config.csv, line, "unterminated quote");
      continue;
    }
    if (i == 0 && !fields->empty() &&
        util::trim((*fields)[0]) == "subDirectory_filePath") {
      continue;  // the header row is optional
    }
    if (fields->size() < 7) {
      builder.malformed(
          config.csv, line,
          str("expected at least 7 columns, got ", fields->size()));
      continue;
    }
    const auto& f = *fields;
    auto code = util::parse_int(f[6]);
    if (!code || *code < 0 || *code > 10) {
      builder.malformed(
          config.csv, line,
          str("unknown expression code '", f[6], "' (expected 0..10)"));
      continue;
    }
    const std::string where = str(config.csv, ":", line);
    if (*code >= 7) {
      builder.drop(kDropped[*code - 7], where);
      continue;
    }
    io::Box box;
    if (config.crop_face) {
      auto x = util::parse_int(f[1]), y = util::parse_int(f[2]),
           w = util::parse_int(f[3]), h = util::parse_int(f[4]);
      const auto face =
          x && y && w && h ? detail::face_box(*x, *y, *w, *h) : std::nullopt;
      if (!face) {
        builder.malformed(config.csv, line, "bad face box");
        continue;
      }
      box = *face;
    }
    const std::string path =
        util::join_path(config.images, std::string(util::trim(f[0])));
    if (!builder.image_exists(path, where)) continue;
    Sample s;
    s.path = builder.add_path(path);
    s.label = static_cast<int8_t>(kToCanonical[*code]);
    s.box = box;
    builder.add(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
