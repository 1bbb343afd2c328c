// FER2013 csv: header "emotion,pixels,Usage", 2304 space-separated gray values
// per row (48x48), usage Training / PublicTest / PrivateTest.
#include <algorithm>
#include <charconv>

#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

namespace {
constexpr int kSide = 48;
}

ReadResult read_fer2013_csv(const SourceConfig& config) {
  detail::require_file(config.csv, "FER2013 csv");
  detail::TableBuilder builder(config);
  static const int kToCanonical[7] = {kAnger,   kDisgust,  kFear,   kHappiness,
                                      kSadness, kSurprise, kNeutral};
  const std::string usage = util::to_lower(config.usage);
  const std::vector<std::string> lines = util::read_lines(config.csv);
  SEMIFER_CHECK(!lines.empty(), config.csv, ":1: empty file, expected the ",
                "header 'emotion,pixels,Usage'");
  int emotion_col = -1, pixels_col = -1, usage_col = -1;
  {
    auto header = util::split_csv(lines[0]);
    for (size_t c = 0; header && c < header->size(); ++c) {
      const std::string name = util::to_lower(util::trim((*header)[c]));
      if (name == "emotion") emotion_col = static_cast<int>(c);
      if (name == "pixels") pixels_col = static_cast<int>(c);
      if (name == "usage") usage_col = static_cast<int>(c);
    }
  }
  SEMIFER_CHECK(emotion_col >= 0 && pixels_col >= 0, config.csv,
                ":1: expected the header 'emotion,pixels,Usage', got '",
                lines[0], "'");
  SEMIFER_CHECK(usage == "all" || usage_col >= 0, config.csv,
                ": has no Usage column, so usage must be 'all', not '",
                config.usage, "'");
  auto& table = builder.table();
  table.paths = {config.csv};
  table.pixel_width = table.pixel_height = kSide;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t line = i + 1;
    if (util::trim(lines[i]).empty()) continue;
    auto fields = util::split_csv(lines[i]);
    const int need = std::max({emotion_col, pixels_col, usage_col}) + 1;
    if (!fields || static_cast<int>(fields->size()) < need) {
      builder.malformed(config.csv, line, str("expected ", need, " columns"));
      continue;
    }
    const auto& f = *fields;
    if (usage != "all" && util::to_lower(util::trim(f[usage_col])) != usage) {
      continue;
    }
    auto label = util::parse_int(f[emotion_col]);
    if (!label || *label < 0 || *label > 6) {
      builder.malformed(
          config.csv, line,
          str("unknown emotion id '", f[emotion_col], "' (expected 0..6)"));
      continue;
    }
    const size_t start = table.pixels.size();
    table.pixels.resize(start + kSide * kSide);
    const std::string& px = f[pixels_col];
    const char* p = px.data();
    const char* end = p + px.size();
    int n = 0;
    bool ok = true;
    while (ok) {
      while (p < end && *p == ' ') ++p;
      if (p == end) break;
      int v = -1;
      auto r = std::from_chars(p, end, v);
      if (r.ec != std::errc() || v < 0 || v > 255 || n >= kSide * kSide) {
        ok = false;
        break;
      }
      table.pixels[start + n++] = static_cast<uint8_t>(v);
      p = r.ptr;
    }
    if (!ok || n != kSide * kSide) {
      table.pixels.resize(start);
      builder.malformed(config.csv, line,
                        str("expected 2304 gray values in 0..255",
                            ok ? str(", got ", n) : ""));
      continue;
    }
    Sample s;
    s.offset = static_cast<int64_t>(start);
    s.path = 0;
    s.frame = static_cast<int32_t>(line);
    s.label = static_cast<int8_t>(kToCanonical[*label]);
    builder.add(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
