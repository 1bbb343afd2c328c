#include "semifer/util/yaml.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

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

void yaml_check_utf8(std::string_view text, const std::string& file) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = 1;
    unsigned char lo = 0x80, hi = 0xBF;  // the first continuation byte
    if (c < 0x80) {
      if (c == '\n') {
        ++line;
        line_start = i + 1;
      }
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      len = 0;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char b = p[i + k];
      ok = k == 1 ? b >= lo && b <= hi : b >= 0x80 && b <= 0xBF;
    }
    if (!ok) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", c);
      fail(file, ":", line, ": not UTF-8 text (byte ", byte, " at column ",
           i - line_start + 1, "); YAML configs are UTF-8");
    }
    i += len;
  }
}

YAML::Node yaml_parse(const std::string& text, const std::string& file) {
  // yaml-cpp takes any bytes and writes invalid ones back as U+FFFD: a
  // path with them would not be the same path after to_yaml.
  yaml_check_utf8(text, file);
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
