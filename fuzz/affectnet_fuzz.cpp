// data::read_affectnet: the input is training.csv; images/ holds a.jpg and
// sub/b.png, so rows naming them reach the face box and the label.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::SourceConfig config;
  config.format = data::Format::kAffectNet;
  config.images = fuzz::scratch_folder("images");
  fuzz::ensure_image(config.images + "/a.jpg");
  fuzz::ensure_image(config.images + "/sub/b.png");
  config.csv = fuzz::write_scratch("training.csv", data, size);
  config.crop_face = size % 2 == 0;  // both paths, chosen by the input
  return fuzz::read_both_policies(config);
}
