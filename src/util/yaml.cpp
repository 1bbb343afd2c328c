#include "semifer/util/yaml.h"

#include <algorithm>
#include <map>

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

void yaml_reject_duplicate_keys(const YAML::Node& node,
                                const std::string& file) {
  // yaml-cpp keeps every pair of a map and finds the first: a repeated key
  // would silently lose the later value, which is the one a user who
  // appended a line meant.
  if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        const auto [it, fresh] =
            seen.emplace(kv.first.Scalar(), kv.first.Mark());
        const YAML::Mark& first = it->second;
        SEMIFER_CHECK(fresh, yaml_where(kv.first, file), ": duplicate key '",
                      excerpt(kv.first.Scalar()), "' (first at line ",
                      first.line + 1,
                      first.line == kv.first.Mark().line
                          ? str(" column ", first.column + 1)
                          : std::string(),
                      ")");
      }
      yaml_reject_duplicate_keys(kv.second, file);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) yaml_reject_duplicate_keys(item, file);
  }
}

YAML::Node yaml_parse(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(file, ":", e.mark.line + 1, ": YAML syntax error: ", e.msg);
  }
  yaml_reject_duplicate_keys(root, file);
  return root;
}

}  // namespace semifer::util
