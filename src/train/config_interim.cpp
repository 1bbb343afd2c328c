// INTERIM (replaced when the config key table lands).
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>

#include "semifer/train/config.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::train {

TrainConfig parse_train_config(const std::string& yaml,
                               const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("semifer-cfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "config.yaml").string();
  util::write_text(path, yaml);
  TrainConfig c = load_train_config(path);
  std::filesystem::remove_all(dir);
  return c;
}

std::vector<ConfigChange> config_changes(const TrainConfig& before,
                                         const TrainConfig& after) {
  const YAML::Node a = YAML::Load(to_yaml(before));
  const YAML::Node b = YAML::Load(to_yaml(after));
  std::vector<ConfigChange> out;
  auto text = [](const YAML::Node& n) {
    YAML::Emitter e;
    e << YAML::Flow << n;
    return std::string(e.c_str());
  };
  for (const auto& section : a) {
    const std::string s = section.first.as<std::string>();
    for (const auto& key : section.second) {
      const std::string k = key.first.as<std::string>();
      const std::string x = text(key.second), y = text(b[s][k]);
      if (x != y) out.push_back({s + "." + k, x, y});
    }
  }
  return out;
}

}  // namespace semifer::train
