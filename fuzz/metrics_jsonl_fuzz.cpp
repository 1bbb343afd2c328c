// io::parse_metrics over metrics.jsonl text; every parsed line is formatted
// back (format_metrics_line, metrics_scalars, the CSV row) as the report and
// a resume do, and a formatted line must parse again.
#include "fuzz_support.h"
#include "semifer/io/metrics_log.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::run_one([&] {
    const auto lines = io::parse_metrics(text, "metrics.jsonl");
    for (const io::MetricsLine& line : lines) {
      const std::string again = io::format_metrics_line(line);
      try {
        fuzz::require(io::parse_metrics(again, "again").size() == 1,
                      "a formatted line does not parse as one line");
      } catch (const Error& e) {
        fuzz::require(false, str("a formatted line does not parse: ", e.what(),
                                 "\n", again));
      }
      io::metrics_scalars(line);
      std::vector<std::string> classes;
      for (const auto& [name, value] : line.tau) classes.push_back(name);
      io::metrics_csv_row(line, io::metrics_csv_columns(classes, true));
    }
  });
}
