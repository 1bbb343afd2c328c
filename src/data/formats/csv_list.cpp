// CSV list: path,label lines; label is a class name (or synonym) or a
// canonical id 0..7; paths are relative to root.
#include <filesystem>

#include "builder.h"
#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

ReadResult read_csv_list(const SourceConfig& config) {
  detail::require_file(config.csv, "csv list");
  const std::string root =
      config.root.empty()
          ? std::filesystem::path(config.csv).parent_path().string()
          : config.root;
  detail::require_dir(root, "csv list root");
  detail::TableBuilder builder(config);
  const bool labels_required = config.role != Role::kUnlabeled;
  const std::vector<std::string> lines = util::read_lines(config.csv);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line = i + 1;
    if (util::trim(lines[i]).empty()) continue;
    auto fields = util::split_csv(lines[i]);
    if (!fields || fields->empty() || fields->size() > 2) {
      builder.malformed(config.csv, line, "expected 'path,label'");
      continue;
    }
    const std::string rel(util::trim((*fields)[0]));
    const std::string label_text =
        fields->size() == 2 ? std::string(util::trim((*fields)[1])) : "";
    if (i == 0 && util::to_lower(rel) == "path") continue;  // header row
    int label = -1;
    if (!label_text.empty()) {
      if (auto id = util::parse_int(label_text)) {
        label = *id >= 0 && *id < kNumExpressions ? static_cast<int>(*id) : -2;
      } else if (auto named = parse_expression(label_text)) {
        label = *named;
      } else {
        label = -2;
      }
      if (label == -2) {
        builder.malformed(config.csv, line,
                          str("unknown label '", label_text,
                              "' (expected a class name or an id 0..7)"));
        continue;
      }
    } else if (labels_required) {
      builder.malformed(config.csv, line, "missing label");
      continue;
    }
    if (rel.empty()) {
      builder.malformed(config.csv, line, "empty path");
      continue;
    }
    const std::string path = util::join_path(root, rel);
    if (!builder.image_exists(path, str(config.csv, ":", line))) continue;
    Sample s;
    s.path = builder.add_path(path);
    s.label = static_cast<int8_t>(label);
    builder.add(s);
  }
  return builder.finish();
}

}  // namespace semifer::data
