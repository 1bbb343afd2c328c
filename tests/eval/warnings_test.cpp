// The warnings that keep a user from trusting a degenerate model, and the
// model card's record of validation scores that they read.
#include <gtest/gtest.h>

#include "semifer/eval/predict.h"
#include "semifer/infer/model_card.h"
#include "semifer/util/error.h"

namespace semifer::test {

namespace {

infer::ModelCard card(double f1_a, double f1_b, const std::string& selected) {
  infer::ModelCard c;
  c.model = "smallnet";
  c.classes = {"Neutral",   "Anger",   "Disgust", "Fear",
               "Happiness", "Sadness", "Surprise"};
  c.input = {48, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
  c.step = 300;
  c.validation_step = 300;
  c.validation_f1_a = f1_a;
  c.validation_f1_b = f1_b;
  c.selected_network = selected;
  return c;
}

}  // namespace

TEST(Warnings, OneClassForNearlyEveryImageIsCalledDegenerate) {
  const std::vector<std::string> classes = {"Neutral", "Anger", "Sadness"};
  std::vector<int> predicted(19, 2);
  // Too few images to judge.
  EXPECT_EQ(eval::one_class_warning(predicted, classes), "");
  predicted.push_back(2);
  const std::string w = eval::one_class_warning(predicted, classes);
  EXPECT_NE(w.find("Sadness for 100% of the 20 images"), std::string::npos)
      << w;
  // 89% is not nearly every image.
  std::vector<int> mixed(89, 0);
  mixed.insert(mixed.end(), 11, 1);
  EXPECT_EQ(eval::one_class_warning(mixed, classes), "");
  mixed[89] = 0;  // 90 of 100
  EXPECT_NE(eval::one_class_warning(mixed, classes), "");
  // With labels: a data set that really is 95% Neutral is no sign.
  std::vector<int> truth(100, 0);
  for (int i = 0; i < 5; ++i) truth[i] = 1;
  EXPECT_EQ(eval::one_class_warning(mixed, classes, &truth), "");
  std::vector<int> balanced(100);
  for (int i = 0; i < 100; ++i) balanced[i] = i % 3;
  const std::string l = eval::one_class_warning(mixed, classes, &balanced);
  EXPECT_NE(l.find("while 34% of them are Neutral"), std::string::npos) << l;
}

TEST(Warnings, RecordedF1NearChanceWarnsForThatNetworkOnly) {
  const auto c = card(0.45, 0.04, "");
  EXPECT_EQ(infer::near_chance_warning(c, "A"), "");
  const std::string w = infer::near_chance_warning(c, "B");
  EXPECT_NE(w.find("network B's recorded validation macro F1 is 0.040"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("1/7 = 0.143"), std::string::npos) << w;
  // 1.2 / 7 = 0.171: just above is not near chance; unknown is no warning.
  EXPECT_EQ(infer::near_chance_warning(card(0.172, 0.172, ""), "B"), "");
  EXPECT_NE(infer::near_chance_warning(card(0.17, 0.17, ""), "B"), "");
  EXPECT_EQ(infer::near_chance_warning(card(-1, -1, ""), "B"), "");
}

TEST(Warnings, PreferredNetworkIsTheSelectedThenTheBetterThenB) {
  EXPECT_EQ(infer::preferred_network(card(0.9, 0.1, "B")), "B");
  EXPECT_EQ(infer::preferred_network(card(0.1, 0.9, "A")), "A");
  EXPECT_EQ(infer::preferred_network(card(0.6, 0.5, "")), "A");
  EXPECT_EQ(infer::preferred_network(card(0.5, 0.6, "")), "B");
  EXPECT_EQ(infer::preferred_network(card(0.5, 0.5, "")), "B");
  EXPECT_EQ(infer::preferred_network(card(-1, -1, "")), "B");
}

TEST(Warnings, TheCardKeepsValidationScoresAndTheSelectedNetwork) {
  const auto c = card(0.61, 0.58, "A");
  const auto back = infer::parse_model_card(infer::to_json(c), "card.json");
  EXPECT_EQ(back.validation_step, 300);
  EXPECT_DOUBLE_EQ(back.validation_f1_a, 0.61);
  EXPECT_DOUBLE_EQ(back.validation_f1_b, 0.58);
  EXPECT_EQ(back.selected_network, "A");
  // A card without them (an older checkpoint's) reads as unknown.
  infer::ModelCard old = c;
  old.validation_step = -1;
  old.selected_network.clear();
  const auto plain = infer::parse_model_card(infer::to_json(old), "old.json");
  EXPECT_EQ(plain.validation_step, -1);
  EXPECT_LT(plain.validation_f1_a, 0);
  EXPECT_EQ(plain.selected_network, "");
  std::string bad = infer::to_json(c);
  bad.replace(bad.find("\"A\"}"), 3, "\"C\"");
  EXPECT_THROW(infer::parse_model_card(bad, "bad.json"), Error);
}

}  // namespace semifer::test
