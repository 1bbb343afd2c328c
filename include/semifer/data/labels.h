#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace semifer::data {

/// The canonical expression classes in ABAW order. Every dataset format maps
/// its labels into these ids; labels outside them (AffectNet Contempt, None,
/// Uncertain, No-Face, ...) are dropped and counted by the readers.
enum Expression : int {
  kNeutral = 0,
  kAnger = 1,
  kDisgust = 2,
  kFear = 3,
  kHappiness = 4,
  kSadness = 5,
  kSurprise = 6,
  kOther = 7,
};

/// Number of canonical classes.
constexpr int kNumExpressions = 8;

/// Canonical names in id order: Neutral, Anger, ..., Other.
const std::array<std::string, kNumExpressions>& expression_names();

/// Canonical name of an id in [0, 8).
const std::string& expression_name(int id);

/// Matches a class name case-insensitively against the canonical names and
/// their usual synonyms (angry, happy, sad, surprised, disgusted, fearful,
/// calm, ...). Returns std::nullopt when the name is unknown.
std::optional<int> parse_expression(std::string_view name);

/// The classes a model is trained on: an ordered subset of the canonical
/// classes (all 8 by default; the 7 FER2013 classes without Other, say).
/// Model output index i stands for canonical class `canonical(i)`.
class LabelSpace {
 public:
  /// All 8 canonical classes.
  LabelSpace();
  /// The given canonical ids, in the given order, without repeats.
  explicit LabelSpace(std::vector<int> canonical_ids);
  /// From class names (canonical names or synonyms); throws semifer::Error
  /// on an unknown or repeated name.
  static LabelSpace from_names(const std::vector<std::string>& names);

  int size() const { return static_cast<int>(canonical_.size()); }
  /// Canonical id of model class `index`.
  int canonical(int index) const { return canonical_.at(index); }
  /// Model class index of canonical id `id`, or -1 when not in the space.
  int index_of(int canonical_id) const;
  /// Canonical names, in model class order.
  std::vector<std::string> names() const;

 private:
  std::vector<int> canonical_;
  std::array<int, kNumExpressions> index_{};
};

}  // namespace semifer::data
