#include "semifer/util/error.h"

#include <c10/util/Exception.h>

namespace semifer {

std::string torch_error_line(const c10::Error& e) {
  const std::string s = e.what_without_backtrace();
  return s.substr(0, s.find('\n'));
}

std::string error_line(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e))
    return torch_error_line(*c10);
  const std::string s = e.what();
  return s.substr(0, s.find('\n'));
}

}  // namespace semifer
