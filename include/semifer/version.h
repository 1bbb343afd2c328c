#pragma once

namespace semifer {

/// semifer's version, "major.minor.patch".
inline constexpr const char* kVersion = "0.1.0";

}  // namespace semifer
