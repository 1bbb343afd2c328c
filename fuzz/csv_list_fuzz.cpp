// data::read_csv_list: the input is list.csv (path,label lines relative to
// its folder, which holds a.jpg and happy/b.png). Labeled role (labels
// required) for even sizes, unlabeled for odd ones.
#include "format_fuzz.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  data::SourceConfig config;
  config.format = data::Format::kCsv;
  config.role = size % 2 == 0 ? data::Role::kLabeled : data::Role::kUnlabeled;
  const std::string root = fuzz::scratch_folder("csv");
  fuzz::ensure_image(root + "/a.jpg");
  fuzz::ensure_image(root + "/happy/b.png");
  config.csv = fuzz::write_scratch("csv/list.csv", data, size);
  return fuzz::read_both_policies(config);
}
