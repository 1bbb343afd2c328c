// data::read_rafdb: the input is list_patition_label.txt ("name label");
// images/ holds train_00001_aligned.jpg and test_0001_aligned.jpg. The split
// (all, train, test) is chosen by the input's size.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* kSplits[3] = {"all", "train", "test"};
  data::SourceConfig config;
  config.format = data::Format::kRafDb;
  config.split = kSplits[size % 3];
  config.images = fuzz::scratch_folder("images");
  fuzz::ensure_image(config.images + "/train_00001_aligned.jpg");
  fuzz::ensure_image(config.images + "/test_0001_aligned.jpg");
  config.list = fuzz::write_scratch("list_patition_label.txt", data, size);
  return fuzz::read_both_policies(config);
}
