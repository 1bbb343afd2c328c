#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "semifer/util/error.h"

/// Helpers that map YAML onto config structs with one-line errors naming the
/// file and line ("data.yaml:7: unknown key 'lables' in source 2 ...").
namespace semifer::util {

/// "file:line" of a node (1-based line), or just "file".
std::string yaml_where(const YAML::Node& node, const std::string& file);

/// Throws unless `node` is a map whose keys are all in `known`.
void yaml_check_keys(const YAML::Node& node,
                     const std::vector<std::string>& known,
                     const std::string& file, const std::string& what);

/// Converts a scalar, with an error naming file, line and key on failure.
template <typename T>
T yaml_as(const YAML::Node& node, const std::string& file,
          const std::string& key) {
  try {
    SEMIFER_CHECK(node.IsScalar(), yaml_where(node, file), ": '", key,
                  "' must be a single value");
    return node.as<T>();
  } catch (const YAML::Exception&) {
    fail(yaml_where(node, file), ": '", key,
         "' has a value of the wrong type: '", node.Scalar(), "'");
  }
}

/// Parses YAML text; syntax errors become semifer::Error naming file:line.
YAML::Node yaml_parse(const std::string& text, const std::string& file);

}  // namespace semifer::util
