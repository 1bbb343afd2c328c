// data::read_ferplus: the input is label.csv (name, "(x, y, w, h)", ten vote
// counts); images/ holds fer0000000.png and a.jpg.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::SourceConfig config;
  config.format = data::Format::kFerPlus;
  config.images = fuzz::scratch_folder("images");
  fuzz::ensure_image(config.images + "/fer0000000.png");
  fuzz::ensure_image(config.images + "/a.jpg");
  config.csv = fuzz::write_scratch("label.csv", data, size);
  return fuzz::read_both_policies(config);
}
