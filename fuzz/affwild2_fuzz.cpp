// data::read_affwild2: the input is one video's annotation file,
// annotations/video.txt; images/video/ holds frames 00001.jpg and 00003.jpg.
// Role labeled, so frames annotated -1 go to the unlabeled pool.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::SourceConfig config;
  config.format = data::Format::kAffWild2;
  config.images = fuzz::scratch_folder("images");
  fuzz::ensure_image(config.images + "/video/00001.jpg");
  fuzz::ensure_image(config.images + "/video/00003.jpg");
  fuzz::write_scratch("annotations/video.txt", data, size);
  config.annotations = fuzz::scratch_folder("annotations");
  return fuzz::read_both_policies(config);
}
