#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/data/labels.h"
#include "semifer/data/source.h"

namespace YAML {
class Node;
}

namespace semifer::data {

/// `sampling:` of a data config (paper section 3.1).
struct SamplingConfig {
  /// Labeled samples per class per epoch; a class with fewer is drawn with
  /// replacement.
  int64_t per_class = 8000;
  /// The labeled images that class-balanced selection does not keep go to the
  /// unlabeled pool ("the remaining images ... as the unlabeled samples").
  bool leftovers_to_unlabeled = true;
  /// Seed of the selection and of every epoch's draw.
  uint64_t seed = 0;

  void validate() const;
};

/// A data config: the classes, the sampling, and the sources of each pool.
/// docs/config.md lists every key.
struct DataConfig {
  std::vector<std::string> classes = {"Neutral",  "Anger",     "Disgust",
                                      "Fear",     "Happiness", "Sadness",
                                      "Surprise", "Other"};
  SamplingConfig sampling;
  std::vector<SourceConfig> labeled;
  std::vector<SourceConfig> unlabeled;
  std::vector<SourceConfig> validation;

  /// The classes as a label space; throws on an unknown or repeated name.
  LabelSpace label_space() const;
  void validate() const;
};

/// Reads a YAML data config file. Relative paths are relative to the file's
/// folder. Unknown keys, bad values and missing required keys throw
/// semifer::Error naming the file and line.
DataConfig load_data_config(const std::string& path);

/// Maps a parsed YAML map onto a DataConfig (for configs that embed a data
/// section). `file` names the source in errors; `base_dir` anchors paths.
DataConfig parse_data_config(const YAML::Node& node, const std::string& file,
                             const std::string& base_dir);

}  // namespace semifer::data
