#include "semifer/data/labels.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace semifer::data {

TEST(Labels, CanonicalOrderIsAbaw) {
  EXPECT_EQ(expression_names()[0], "Neutral");
  EXPECT_EQ(expression_names()[4], "Happiness");
  EXPECT_EQ(expression_names()[7], "Other");
  test::expect_error([] { expression_name(8); }, {"id 8"});
}

TEST(Labels, SynonymsAreCaseInsensitive) {
  EXPECT_EQ(parse_expression("ANGRY"), kAnger);
  EXPECT_EQ(parse_expression("happy"), kHappiness);
  EXPECT_EQ(parse_expression("Sad"), kSadness);
  EXPECT_EQ(parse_expression("surprised"), kSurprise);
  EXPECT_EQ(parse_expression(" Neutral "), kNeutral);
  EXPECT_FALSE(parse_expression("contempt"));
  EXPECT_FALSE(parse_expression(""));
}

TEST(Labels, RestrictedLabelSpace) {
  const LabelSpace seven = LabelSpace::from_names(
      {"neutral", "angry", "disgust", "fear", "happy", "sad", "surprise"});
  EXPECT_EQ(seven.size(), 7);
  EXPECT_EQ(seven.index_of(kOther), -1);
  EXPECT_EQ(seven.index_of(kSurprise), 6);
  EXPECT_EQ(seven.names()[1], "Anger");
  const LabelSpace reordered({kHappiness, kNeutral});
  EXPECT_EQ(reordered.canonical(0), kHappiness);
  EXPECT_EQ(reordered.index_of(kNeutral), 1);
  test::expect_error(
      [] {
        LabelSpace::from_names({"happy", "Happiness"});
      },
      {"Happiness", "twice"});
  test::expect_error([] { LabelSpace::from_names({"bored"}); },
                     {"unknown class 'bored'"});
  EXPECT_EQ(LabelSpace().size(), 8);
}

}  // namespace semifer::data
