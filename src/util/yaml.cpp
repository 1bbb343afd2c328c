#include "semifer/util/yaml.h"

#include <algorithm>

#include "semifer/util/strings.h"

namespace semifer::util {

std::string yaml_where(const YAML::Node& node, const std::string& file) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return file;
  return str(file, ":", mark.line + 1);
}

void yaml_check_keys(const YAML::Node& node,
                     const std::vector<std::string>& known,
                     const std::string& file, const std::string& what) {
  SEMIFER_CHECK(node.IsMap(), yaml_where(node, file), ": ", what,
                " must be a map of key: value");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    const std::string near = closest(key, known);
    fail(yaml_where(kv.first, file), ": unknown key '", key, "' in ", what,
         near.empty() ? "" : str("; did you mean '", near, "'?"),
         " (known keys: ", list, ")");
  }
}

YAML::Node yaml_parse(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(file, ":", e.mark.line + 1, ": YAML syntax error: ", e.msg);
  }
}

}  // namespace semifer::util
