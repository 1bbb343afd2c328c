#include "semifer/data/config.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

TEST(DataConfig, ParsesSourcesAndResolvesRelativePaths) {
  TempDir tmp;
  const std::string path = test::write_text_file(tmp.file("cfg/data.yaml"), R"(
classes: [Neutral, Anger, Happiness]
sampling: {per_class: 10, leftovers_to_unlabeled: false, seed: 3}
labeled:
  - {format: folder, root: faces, name: mine, leftovers_to_unlabeled: true}
  - {format: affwild2, annotations: /abs/ann, images: imgs, on_error: skip}
  - format: fer2013_csv
    csv: fer.csv
    usage: PublicTest
    on_error: {annotations: skip, images: fail}
    subset: {from: 0.1, to: 0.5, seed: 9}
unlabeled:
  - {format: recordio, rec: pool/train.rec, idx: pool/train.idx}
validation:
  - {format: csv, csv: val.csv}
)");
  const DataConfig c = load_data_config(path);
  EXPECT_EQ(c.classes.size(), 3u);
  EXPECT_EQ(c.sampling.per_class, 10);
  EXPECT_FALSE(c.sampling.leftovers_to_unlabeled);
  EXPECT_EQ(c.sampling.seed, 3u);
  ASSERT_EQ(c.labeled.size(), 3u);
  EXPECT_EQ(c.labeled[0].name, "mine");
  EXPECT_EQ(c.labeled[0].leftovers_to_unlabeled, 1);
  EXPECT_EQ(c.labeled[0].root, tmp.file("cfg/faces"));
  EXPECT_EQ(c.labeled[1].annotations, "/abs/ann");
  EXPECT_EQ(c.labeled[1].name, "affwild2#2");
  EXPECT_EQ(c.labeled[1].on_annotation_error, OnError::kSkip);
  EXPECT_EQ(c.labeled[1].on_image_error, OnError::kSkip);
  EXPECT_EQ(c.labeled[2].usage, "PublicTest");
  EXPECT_EQ(c.labeled[2].on_annotation_error, OnError::kSkip);
  EXPECT_EQ(c.labeled[2].on_image_error, OnError::kFail);
  EXPECT_DOUBLE_EQ(c.labeled[2].subset.from, 0.1);
  EXPECT_EQ(c.labeled[2].subset.seed, 9u);
  EXPECT_EQ(c.unlabeled[0].rec, tmp.file("cfg/pool/train.rec"));
  EXPECT_EQ(c.unlabeled[0].role, Role::kUnlabeled);
  EXPECT_EQ(c.validation[0].role, Role::kValidation);
  // Defaults: annotations fail, images skip.
  EXPECT_EQ(c.labeled[0].on_annotation_error, OnError::kFail);
  EXPECT_EQ(c.labeled[0].on_image_error, OnError::kSkip);
}

TEST(DataConfig, WritesWhatReadsBackEqualFromAnotherFolder) {
  TempDir tmp;
  const DataConfig c = load_data_config(test::write_text_file(
      tmp.file("cfg/data.yaml"),
      "classes: [happy, Neutral]\n"
      "sampling: {per_class: 3}\n"
      "labeled:\n"
      "  - {format: affectnet, csv: a.csv, images: img, crop_face: true,\n"
      "     on_error: {images: fail}, leftovers_to_unlabeled: false}\n"
      "unlabeled:\n"
      "  - {format: affwild2, annotations: ann, images: img,\n"
      "     unannotated_to_unlabeled: false, subset: {to: 0.5}}\n"));
  const std::string text = to_yaml(c);
  const DataConfig again =
      load_data_config(test::write_text_file(tmp.file("x/y/d.yaml"), text));
  EXPECT_TRUE(again == c) << text;
  EXPECT_EQ(to_yaml(again), text);
  EXPECT_TRUE(again.labeled[0].crop_face);
  EXPECT_EQ(again.labeled[0].on_image_error, OnError::kFail);
  EXPECT_EQ(again.labeled[0].csv, tmp.file("cfg/a.csv"));
  EXPECT_FALSE(again.unlabeled[0].unannotated_to_unlabeled);
  EXPECT_DOUBLE_EQ(again.unlabeled[0].subset.to, 0.5);
  EXPECT_NE(text.find("crop_face: true"), std::string::npos) << text;
  DataConfig other = c;
  other.labeled[0].crop_face = false;
  EXPECT_FALSE(other == c);
}

TEST(DataConfig, ErrorsNameFileLineAndKey) {
  TempDir tmp;
  auto load = [&](const std::string& text) {
    return load_data_config(test::write_text_file(tmp.file("d.yaml"), text));
  };
  expect_error(
      [&] { load("labeled:\n  - {format: folder, root: x}\nlables: []\n"); },
      {"d.yaml:3", "unknown key 'lables'"});
  expect_error([&] { load("labeled:\n  - {format: folder, roots: x}\n"); },
               {"d.yaml:2", "unknown key 'roots'", "known keys"});
  expect_error([&] { load("labeled:\n  - {format: folder}\n"); },
               {"d.yaml:2", "needs 'root'"});
  expect_error([&] { load("labeled:\n  - {format: imagenet, root: x}\n"); },
               {"d.yaml:2", "unknown format 'imagenet'", "affwild2"});
  expect_error([&] { load("classes: [Neutral, Bored]\nlabeled: []\n"); },
               {"d.yaml:1", "unknown class 'Bored'"});
  expect_error(
      [&] {
        load(
            "sampling: {per_class: -4}\nlabeled:\n  - {format: folder, root: "
            "x}\n");
      },
      {"d.yaml:1", "per_class"});
  expect_error([&] { load("sampling: {per_class: many}\n"); },
               {"d.yaml:1", "per_class", "wrong type"});
  expect_error(
      [&] {
        load("labeled:\n  - {format: folder, root: x, on_error: maybe}\n");
      },
      {"d.yaml:2", "on_error"});
  expect_error([&] { load("labeled: [\n"); }, {"d.yaml", "YAML syntax error"});
  expect_error(
      [&] {
        load(
            "unlabeled:\n  - {format: folder, root: x, leftovers_to_unlabeled: "
            "true}\n");
      },
      {"unknown key 'leftovers_to_unlabeled'"});
  expect_error(
      [&] {
        load(
            "labeled:\n  - {format: folder, root: x, subset: {from: 0.5, to: "
            "0.2}}\n");
      },
      {"d.yaml:2", "subset"});
  expect_error([&] { load("{}\n"); }, {"d.yaml", "no sources"});
  expect_error([&] { load_data_config(tmp.file("missing.yaml")); },
               {"missing.yaml", "does not exist"});
}

}  // namespace semifer::data
