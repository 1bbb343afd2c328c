#include <string>

#include "commands.h"

namespace semifer::app {

namespace {

// A check of a number flag's value: `ok` says whether it is wanted, `want`
// what is (for the error: "--seeds: must be positive, got 0").
CLI::Validator number_check(bool (*ok)(double), const std::string& want,
                            const std::string& name) {
  return CLI::Validator(
      [ok, want](std::string& value) -> std::string {
        double x = 0;
        if (!CLI::detail::lexical_cast(value, x))
          return "must be a number, got '" + value + "'";
        return ok(x) ? std::string() : "must be " + want + ", got " + value;
      },
      name, name);
}

}  // namespace

const CLI::Validator& positive() {
  static const CLI::Validator v =
      number_check([](double x) { return x > 0; }, "positive", "POSITIVE");
  return v;
}

const CLI::Validator& non_negative() {
  static const CLI::Validator v =
      number_check([](double x) { return x >= 0; }, "0 or more", "NONNEGATIVE");
  return v;
}

}  // namespace semifer::app
