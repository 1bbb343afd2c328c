// train::load_train_config with --set overrides: the input is a training
// config; each line "#set KEY=VALUE" (a YAML comment) is also passed as the
// override `--set KEY=VALUE`. `data: data.yaml` names a small valid data
// config beside it. A config that loads must come back equal from its own
// to_yaml (the load -> emit -> load round trip of STYLE.md).
#include "fuzz_support.h"
#include "semifer/train/config.h"
#include "semifer/util/strings.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] {
    fuzz::write_scratch("cfg/data.yaml",
                        "classes: [Neutral, Happiness]\n"
                        "labeled:\n  - {format: folder, root: faces}\n");
    return true;
  }();
  (void)once;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  for (std::string_view line : util::split(text, '\n')) {
    if (line.substr(0, 5) == "#set ") overrides.emplace_back(line.substr(5));
  }
  const std::string path = fuzz::write_scratch("cfg/train.yaml", text);
  return fuzz::run_one([&] {
    const train::TrainConfig config = train::load_train_config(path, overrides);
    const std::string yaml = train::to_yaml(config);
    train::TrainConfig again;
    try {
      again = train::parse_train_config(yaml, "to_yaml output");
    } catch (const Error& e) {
      fuzz::require(
          false, str("to_yaml output does not load: ", e.what(), "\n", yaml));
    }
    fuzz::require(again == config,
                  str("to_yaml output loads as another config:\n", yaml));
  });
}
