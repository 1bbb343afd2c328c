#include "semifer/util/yaml_fields.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace semifer::util {

namespace {

// %g with the fewest significant digits whose text parses back to `v`, so a
// written config reads back bit-exact and stays readable ("0.0005", not
// "0.00050000000000000001").
template <typename T>
std::string shortest_text(T v, int max_digits) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  for (int digits = 1; digits <= max_digits; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, static_cast<double>(v));
    const T back = std::is_same_v<T, float> ? std::strtof(buf, nullptr)
                                            : std::strtod(buf, nullptr);
    if (back == v) break;
  }
  return buf;
}

}  // namespace

std::string dotted(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string shortest(double v) { return shortest_text(v, 17); }

std::string shortest(float v) { return shortest_text(v, 9); }

std::string yaml_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

}  // namespace semifer::util
