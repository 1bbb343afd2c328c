#pragma once

#include <string>
#include <string_view>

namespace semifer::util {

/// A CSV field as RFC 4180 writes it: unchanged unless it holds a comma, a
/// quote or a line break, else quoted with its quotes doubled.
std::string csv_field(std::string_view s);

}  // namespace semifer::util
