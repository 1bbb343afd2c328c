#include "semifer/infer/model_card.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace semifer::test {

TEST(ModelCard, RoundTripsThroughJson) {
  infer::ModelCard c;
  c.model = "efficientnet_b0";
  c.dropout = 0.3;
  c.classes = {"Neutral", "Anger"};
  c.input.size = 112;
  c.input.mean = {0.5f, 0.25f, 0.125f};
  c.input.std = {0.2f, 0.3f, 0.4f};
  c.step = 3000;
  TempDir t;
  const std::string path = t.file("m.json");
  infer::write_model_card(path, c);
  const infer::ModelCard r = infer::read_model_card(path);
  EXPECT_EQ(r.model, c.model);
  EXPECT_EQ(r.dropout, c.dropout);
  EXPECT_EQ(r.classes, c.classes);
  EXPECT_TRUE(r.input == c.input);
  EXPECT_EQ(r.step, c.step);
  EXPECT_EQ(infer::model_card_path("/a/b0.pth"), "/a/b0.json");
}

TEST(ModelCard, BadCardsNameTheFile) {
  TempDir t;
  expect_error(
      [&] { infer::read_model_card(write_text_file(t.file("a.json"), "{")); },
      {"a.json", "unreadable model card"});
  expect_error(
      [&] {
        infer::parse_model_card(
            R"({"model":"smallnet","dropout":-1,"classes":["Neutral"],)"
            R"("size":0,"mean":[0,0,0],"std":[1,1,1]})",
            "b.json");
      },
      {"b.json", "input size"});
  expect_error([&] { infer::read_model_card(t.file("none.json")); },
               {"none.json", "does not exist"});
}

}  // namespace semifer::test
