#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace c10 {
class Error;
}

namespace semifer {

/// The first line of a LibTorch error's message, without the C++ backtrace
/// LibTorch appends on later lines (for one-line semifer::Error messages).
std::string torch_error_line(const c10::Error& e);

/// The first line of any exception's message (torch_error_line for
/// LibTorch's errors, without their backtrace).
std::string error_line(const std::exception& e);

/// The one exception type for bad user input: a missing file, a malformed
/// annotation line, an unknown config key. The message is a single line that
/// names the file and, where there is one, the line or record.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Bad input that came from how the program was called rather than from a
/// file: a `--set key=value` override the config rejects, an ablation row
/// that does not parse. The CLI reports it like its other usage errors (exit
/// status 2); a library caller may treat it as any semifer::Error.
class UsageError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}
}  // namespace detail

/// Builds a message from the streamable arguments: `str("a", 1)` is "a1".
template <typename... Args>
std::string str(Args&&... args) {
  return detail::str_cat(std::forward<Args>(args)...);
}

/// Throws semifer::Error with the concatenated arguments.
template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(detail::str_cat(std::forward<Args>(args)...));
}

/// Throws semifer::UsageError with the concatenated arguments.
template <typename... Args>
[[noreturn]] void fail_usage(Args&&... args) {
  throw UsageError(detail::str_cat(std::forward<Args>(args)...));
}

}  // namespace semifer

/// Checks a condition on user input; on failure throws semifer::Error whose
/// message is the concatenation of the remaining arguments.
#define SEMIFER_CHECK(cond, ...)               \
  do {                                         \
    if (!(cond)) ::semifer::fail(__VA_ARGS__); \
  } while (false)
