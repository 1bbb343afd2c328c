// data::load_data_config: the input is a data config file (relative paths
// resolve against its folder). A config that loads must come back equal
// from its own to_yaml, read from another folder.
#include "fuzz_support.h"
#include "semifer/data/config.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("cfg/data.yaml", data, size);
  return fuzz::run_one([&] {
    const data::DataConfig config = data::load_data_config(path);
    const std::string yaml = data::to_yaml(config);
    const std::string again_path = fuzz::write_scratch("other/data.yaml", yaml);
    data::DataConfig again;
    try {
      again = data::load_data_config(again_path);
    } catch (const Error& e) {
      fuzz::require(
          false, str("to_yaml output does not load: ", e.what(), "\n", yaml));
    }
    fuzz::require(again == config,
                  str("to_yaml output loads as another config:\n", yaml));
  });
}
