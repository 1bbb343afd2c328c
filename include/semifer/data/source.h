#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/data/sample.h"

namespace semifer::data {

/// What a source does on bad input.
enum class OnError { kFail, kSkip };

/// The list a source sits in, in the data config.
enum class Role { kLabeled, kUnlabeled, kValidation };

const char* role_name(Role role);

/// A deterministic, class-stratified slice of a source: within each class
/// (and among unlabeled samples) shuffle with `seed`, then keep the samples
/// whose rank falls in [from, to) as a fraction of the class's count. Two
/// sources over the same files with disjoint ranges never share a sample,
/// which is how a hold-out split is written.
struct Subset {
  double from = 0.0;
  double to = 1.0;
  uint64_t seed = 0;
  bool all() const { return from <= 0.0 && to >= 1.0; }
};

/// One entry of the `labeled`, `unlabeled` or `validation` list. Which keys
/// apply depends on the format (docs/config.md); paths are already resolved
/// against the config file's folder.
struct SourceConfig {
  Format format = Format::kFolder;
  Role role = Role::kLabeled;
  std::string name;  ///< for reports; defaults to "<format>#<n>"

  std::string annotations;  ///< affwild2: folder of <video>.txt
  std::string images;       ///< image root (affwild2: cropped_aligned)
  std::string csv;          ///< affectnet, fer2013_csv, ferplus, csv
  std::string list;         ///< expw label.lst, rafdb list_patition_label.txt
  std::string root;         ///< folder, csv
  std::string rec;          ///< recordio .rec
  std::string idx;          ///< recordio .idx

  std::string usage =
      "Training";          ///< fer2013_csv: Training|PublicTest|PrivateTest
  std::string split;       ///< rafdb: train|test|all (default: all)
  bool crop_face = false;  ///< affectnet: crop the face box (images are
                           ///< already cropped in the official release)
  /// affwild2 in `labeled`: frames annotated -1 go to the unlabeled pool.
  bool unannotated_to_unlabeled = true;
  /// folder: "classes" (<root>/<class>/*) or "flat" (recursive, no labels).
  /// Default: classes in labeled/validation, flat in unlabeled.
  std::string layout;
  /// Labeled sources: images that class-balanced sampling does not select
  /// go to the unlabeled pool (default: sampling.leftovers_to_unlabeled).
  int leftovers_to_unlabeled = -1;  ///< -1 inherit, 0 no, 1 yes

  OnError on_annotation_error = OnError::kFail;
  OnError on_image_error = OnError::kSkip;
  Subset subset;
};

/// Reads one source into a sample table; dispatches on `config.format`.
/// Malformed annotations throw semifer::Error naming the file and line
/// (or are counted under "malformed_line" with on_error skip); missing images
/// throw or are counted under "missing_image" as the image policy says.
struct ReadResult {
  std::shared_ptr<const SampleTable> table;
  Skips skips;
};
ReadResult read_source(const SourceConfig& config);

}  // namespace semifer::data
