#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/data/labels.h"
#include "semifer/data/source.h"
#include "semifer/util/key_doc.h"

namespace YAML {
class Node;
}

namespace semifer::data {

/// The largest `sampling.per_class`, and the largest epoch of the
/// class-balanced sampler (per_class x classes present): 10^7 and 10^8
/// indices (docs/reliability.md).
inline constexpr int64_t kMaxPerClass = 10'000'000;
inline constexpr int64_t kMaxEpochSamples = 100'000'000;

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

/// Every key equal (paths as resolved, floats exactly): for round-trip tests
/// and resume checks.
bool operator==(const Subset& a, const Subset& b);
bool operator==(const SourceConfig& a, const SourceConfig& b);
bool operator==(const SamplingConfig& a, const SamplingConfig& b);
bool operator==(const DataConfig& a, const DataConfig& b);

/// Reads a YAML data config file. Relative paths are relative to the file's
/// folder. Unknown keys, bad values and missing required keys throw
/// semifer::Error naming the file and line.
DataConfig load_data_config(const std::string& path);

/// Maps a parsed YAML map onto a DataConfig (for configs that embed a data
/// section). `file` names the source in errors; `base_dir` anchors paths.
DataConfig parse_data_config(const YAML::Node& node, const std::string& file,
                             const std::string& base_dir);

/// Every key of `config` as a YAML map (sources with every key that has a
/// value, paths absolute as resolved): parse_data_config reads it back equal,
/// from any folder.
YAML::Node to_yaml_node(const DataConfig& config);

/// to_yaml_node as text, a data config file.
std::string to_yaml(const DataConfig& config);

/// The documented keys (docs/config.md, "Data config"): "classes",
/// "sampling.per_class", ...; the keys every source takes as "source.name",
/// "source.subset.from", ...; a format's own keys as "source.rafdb.split".
std::vector<util::KeyDoc> data_config_keys();

}  // namespace semifer::data
