// FER+: label.csv rows name,"(x, y, w, h)",v1..v10 with vote counts for
// neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
// unknown, NF. The label is the majority vote.
#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

namespace {

std::optional<io::Box> parse_box(std::string_view text) {
  text = util::trim(text);
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return {};
  auto parts = util::split(text.substr(1, text.size() - 2), ',');
  if (parts.size() != 4) return {};
  int64_t v[4];
  for (int k = 0; k < 4; ++k) {
    auto n = util::parse_int(parts[k]);
    if (!n) return {};
    v[k] = *n;
  }
  // All zero: no box (the whole image).
  if (v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0) return io::Box{};
  return detail::face_box(v[0], v[1], v[2], v[3]);
}

}  // namespace

ReadResult read_ferplus(const SourceConfig& config) {
  detail::require_file(config.csv, "FER+ label csv");
  detail::require_dir(config.images, "FER+ image folder");
  detail::TableBuilder builder(config);
  static const int kToCanonical[7] = {kNeutral, kHappiness, kSurprise, kSadness,
                                      kAnger,   kDisgust,   kFear};
  static const char* kDropped[3] = {"dropped_contempt", "dropped_unknown",
                                    "dropped_no_face"};
  const std::vector<std::string> lines = util::read_lines(config.csv);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    if (util::trim(lines[i]).empty()) continue;
    auto fields = util::split_csv(lines[i]);
    if (!fields || fields->size() != 12) {
      builder.malformed(
          config.csv, line,
          str("expected 12 columns (name, box, 10 vote counts), got ",
              fields ? fields->size() : 0));
      continue;
    }
    const auto& f = *fields;
    std::array<float, 10> votes{};
    bool ok = true;
    for (int k = 0; k < 10 && ok; ++k) {
      auto v = util::parse_double(f[2 + k]);
      ok = v && *v >= 0;
      if (ok) votes[k] = static_cast<float>(*v);
    }
    auto box = parse_box(f[1]);
    if (!ok && i == 0) continue;  // a header row names the vote columns
    if (!ok || !box) {
      builder.malformed(config.csv, line,
                        !box ? "bad face box, expected \"(x, y, w, h)\""
                             : "vote counts must be non-negative numbers");
      continue;
    }
    const std::string where = str(config.csv, ":", line);
    int best = 0;
    for (int k = 1; k < 10; ++k) {
      if (votes[k] > votes[best]) best = k;
    }
    int ties = 0;
    for (int k = 0; k < 10; ++k) ties += votes[k] == votes[best];
    if (votes[best] <= 0) {
      builder.drop("ferplus_no_votes", where);
      continue;
    }
    if (ties > 1) {
      builder.drop("ferplus_tie", where);
      continue;
    }
    if (best >= 7) {
      builder.drop(kDropped[best - 7], where);
      continue;
    }
    const std::string path =
        util::join_path(config.images, std::string(util::trim(f[0])));
    if (!builder.image_exists(path, where)) continue;
    auto& table = builder.table();
    table.votes.push_back(votes);
    Sample s;
    s.path = builder.add_path(path);
    s.label = static_cast<int8_t>(kToCanonical[best]);
    s.votes = static_cast<int32_t>(table.votes.size() - 1);
    // FER+ boxes usually cover the whole 48x48 image; an all-zero box is
    // "none".
    if (!box->empty()) s.box = *box;
    builder.add(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
