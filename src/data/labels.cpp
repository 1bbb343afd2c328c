#include "semifer/data/labels.h"

#include <utility>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::data {

const std::array<std::string, kNumExpressions>& expression_names() {
  static const std::array<std::string, kNumExpressions> names = {
      "Neutral",   "Anger",   "Disgust",  "Fear",
      "Happiness", "Sadness", "Surprise", "Other"};
  return names;
}

const std::string& expression_name(int id) {
  SEMIFER_CHECK(id >= 0 && id < kNumExpressions, "no expression class with id ",
                id, " (ids are 0..", kNumExpressions - 1, ")");
  return expression_names()[id];
}

std::optional<int> parse_expression(std::string_view name) {
  static const std::pair<const char*, int> kSynonyms[] = {
      {"neutral", kNeutral},     {"calm", kNeutral},
      {"anger", kAnger},         {"angry", kAnger},
      {"disgust", kDisgust},     {"disgusted", kDisgust},
      {"fear", kFear},           {"fearful", kFear},
      {"afraid", kFear},         {"scared", kFear},
      {"happiness", kHappiness}, {"happy", kHappiness},
      {"joy", kHappiness},       {"sadness", kSadness},
      {"sad", kSadness},         {"surprise", kSurprise},
      {"surprised", kSurprise},  {"other", kOther},
  };
  const std::string lower = util::to_lower(util::trim(name));
  for (const auto& [synonym, id] : kSynonyms) {
    if (lower == synonym) return id;
  }
  return std::nullopt;
}

LabelSpace::LabelSpace() : LabelSpace({0, 1, 2, 3, 4, 5, 6, 7}) {}

LabelSpace::LabelSpace(std::vector<int> canonical_ids)
    : canonical_(std::move(canonical_ids)) {
  SEMIFER_CHECK(!canonical_.empty(), "the class list is empty");
  index_.fill(-1);
  for (size_t i = 0; i < canonical_.size(); ++i) {
    const int id = canonical_[i];
    SEMIFER_CHECK(id >= 0 && id < kNumExpressions,
                  "no expression class with id ", id);
    SEMIFER_CHECK(index_[id] < 0, "class ", expression_name(id),
                  " is listed twice");
    index_[id] = static_cast<int>(i);
  }
}

LabelSpace LabelSpace::from_names(const std::vector<std::string>& names) {
  std::vector<int> ids;
  for (const auto& name : names) {
    auto id = parse_expression(name);
    SEMIFER_CHECK(id, "unknown class '", name, "' (known: Neutral, Anger, ",
                  "Disgust, Fear, Happiness, Sadness, Surprise, Other)");
    ids.push_back(*id);
  }
  return LabelSpace(std::move(ids));
}

int LabelSpace::index_of(int canonical_id) const {
  if (canonical_id < 0 || canonical_id >= kNumExpressions) return -1;
  return index_[canonical_id];
}

std::vector<std::string> LabelSpace::names() const {
  std::vector<std::string> out;
  for (int id : canonical_) out.push_back(expression_name(id));
  return out;
}

}  // namespace semifer::data
