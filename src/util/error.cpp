#include "semifer/util/error.h"

#include <c10/util/Exception.h>

namespace semifer {

std::string torch_error_line(const c10::Error& e) {
  const std::string s = e.what_without_backtrace();
  return s.substr(0, s.find('\n'));
}

}  // namespace semifer
