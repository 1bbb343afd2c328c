#pragma once

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "semifer/util/error.h"

/// Helpers that map YAML onto config structs with one-line errors naming the
/// file and line ("data.yaml:7: unknown key 'lables' in source 2 ...").
namespace semifer::util {

/// The largest config file read (4 MiB): configs are a few kilobytes, and
/// yaml-cpp holds about 60 bytes per byte of text.
inline constexpr size_t kMaxConfigBytes = size_t{4} << 20;

/// "file:line" of a node (1-based line), or just "file".
std::string yaml_where(const YAML::Node& node, const std::string& file);

/// Throws unless `node` is a map whose keys are all in `known`.
void yaml_check_keys(const YAML::Node& node,
                     const std::vector<std::string>& known,
                     const std::string& file, const std::string& what);

/// Converts a scalar, with an error naming file, line and key on failure;
/// a floating-point value must be finite (.nan and .inf are errors).
template <typename T>
T yaml_as(const YAML::Node& node, const std::string& file,
          const std::string& key) {
  try {
    SEMIFER_CHECK(node.IsScalar(), yaml_where(node, file), ": '", key,
                  "' must be a single value");
    T value = node.as<T>();
    if constexpr (std::is_floating_point_v<T>) {
      SEMIFER_CHECK(std::isfinite(value), yaml_where(node, file), ": '", key,
                    "' must be a finite number, got '", node.Scalar(), "'");
    }
    return value;
  } catch (const YAML::Exception&) {
    fail(yaml_where(node, file), ": '", key,
         "' has a value of the wrong type: '", node.Scalar(), "'");
  }
}

/// Throws semifer::Error naming file:line when a map below `node` repeats a
/// key.
void yaml_reject_duplicate_keys(const YAML::Node& node,
                                const std::string& file);

/// Throws semifer::Error naming file:line and the column when `text` is not
/// valid UTF-8 (a truncated or overlong sequence, a surrogate, a byte that
/// starts none).
void yaml_check_utf8(std::string_view text, const std::string& file);

/// Parses YAML text; text that is not UTF-8 (yaml_check_utf8), syntax
/// errors and repeated keys become semifer::Error naming file:line.
YAML::Node yaml_parse(const std::string& text, const std::string& file);

}  // namespace semifer::util
