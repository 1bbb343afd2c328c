// data::read_expw: the input is label.lst ("image face_id top left right
// bottom confidence label"); images/ holds a.jpg and b.png, so boxes are
// cropped from real (8x8) images.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::SourceConfig config;
  config.format = data::Format::kExpW;
  config.images = fuzz::scratch_folder("images");
  fuzz::ensure_image(config.images + "/a.jpg");
  fuzz::ensure_image(config.images + "/b.png");
  config.list = fuzz::write_scratch("label.lst", data, size);
  return fuzz::read_both_policies(config);
}
