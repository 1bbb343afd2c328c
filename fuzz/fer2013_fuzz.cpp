// data::read_fer2013_csv: the input is fer2013.csv (header, then emotion,
// 2304 gray values, usage). Usage "all" for even sizes, "Training" for odd
// ones; the first samples are turned into images as the loader does.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::SourceConfig config;
  config.format = data::Format::kFer2013Csv;
  config.usage = size % 2 == 0 ? "all" : "Training";
  config.csv = fuzz::write_scratch("fer2013.csv", data, size);
  return fuzz::read_both_policies(config);
}
