#include "semifer/data/dataset.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "semifer/data/stats.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

namespace {

// root/<class>/<i>.png with the given counts.
std::string make_folder(
    const TempDir& tmp, const std::string& root,
    const std::vector<std::pair<std::string, int>>& counts) {
  for (const auto& [name, n] : counts) {
    for (int i = 0; i < n; ++i) {
      test::write_pattern(
          tmp.file(root + "/" + name + "/" + std::to_string(i) + ".png"), 6, 6,
          i);
    }
  }
  return tmp.file(root);
}

SourceConfig folder(const std::string& root, Role role) {
  SourceConfig c;
  c.format = Format::kFolder;
  c.role = role;
  c.root = root;
  c.name = root;
  return c;
}

}  // namespace

TEST(Dataset, BalancedSelectionSendsLeftoversToUnlabeled) {
  TempDir tmp;
  DataConfig config;
  config.sampling.per_class = 5;
  config.labeled = {folder(
      make_folder(tmp, "lab", {{"happy", 12}, {"sad", 3}, {"neutral", 5}}),
      Role::kLabeled)};
  config.unlabeled = {
      folder(make_folder(tmp, "pool", {{"x", 4}}), Role::kUnlabeled)};
  config.validation = {
      folder(make_folder(tmp, "val", {{"happy", 2}, {"other", 1}}),
             Role::kValidation)};
  const Dataset ds = build_dataset(config);
  EXPECT_EQ(ds.labeled.size(), 5u + 3u + 5u);
  EXPECT_EQ(ds.unlabeled.size(), 4u + 7u);
  EXPECT_EQ(ds.validation.size(), 3u);
  const SourceReport& lab = ds.reports[0];
  EXPECT_EQ(lab.read[kHappiness], 12);
  EXPECT_EQ(lab.labeled[kHappiness], 5);
  EXPECT_EQ(lab.labeled[kSadness], 3);
  EXPECT_EQ(lab.leftovers, 7);
  // Leftovers keep their label as a hidden label; pool items are unique.
  int hidden_happy = 0;
  std::set<std::pair<uint32_t, uint32_t>> seen;
  for (const auto& item : ds.unlabeled) {
    hidden_happy +=
        item.source == 0 && item.label == ds.classes.index_of(kHappiness);
    EXPECT_TRUE(seen.insert({item.source, item.index}).second);
  }
  for (const auto& item : ds.labeled)
    EXPECT_TRUE(seen.insert({item.source, item.index}).second);
  EXPECT_EQ(hidden_happy, 7);
  // Per class: the labeled pool as selected; the unlabeled pool's leftovers
  // by their hidden label (the unlabeled source's 4 have none).
  std::vector<int64_t> labeled(ds.classes.names().size(), 0);
  labeled[ds.classes.index_of(kHappiness)] = 5;
  labeled[ds.classes.index_of(kSadness)] = 3;
  labeled[ds.classes.index_of(kNeutral)] = 5;
  EXPECT_EQ(ds.class_counts(ds.labeled), labeled);
  std::vector<int64_t> hidden(ds.classes.names().size(), 0);
  hidden[ds.classes.index_of(kHappiness)] = 7;
  EXPECT_EQ(ds.class_counts(ds.unlabeled), hidden);
  // The selection is fixed by the seed.
  const Dataset again = build_dataset(config);
  for (size_t i = 0; i < ds.labeled.size(); ++i)
    EXPECT_EQ(ds.labeled[i].index, again.labeled[i].index);
  config.sampling.seed = 1;
  const Dataset other = build_dataset(config);
  bool differs = false;
  for (size_t i = 0; i < ds.labeled.size(); ++i)
    differs |= ds.labeled[i].index != other.labeled[i].index;
  EXPECT_TRUE(differs);
}

TEST(Dataset, LeftoversStayLabeledWhenTheSourceSaysSo) {
  TempDir tmp;
  DataConfig config;
  config.sampling.per_class = 2;
  config.sampling.leftovers_to_unlabeled = false;
  config.labeled = {
      folder(make_folder(tmp, "a", {{"happy", 6}}), Role::kLabeled),
      folder(make_folder(tmp, "b", {{"happy", 6}}), Role::kLabeled)};
  config.labeled[1].leftovers_to_unlabeled = 1;
  const Dataset ds = build_dataset(config);
  // Source a keeps every image labeled; source b gives its unselected ones.
  EXPECT_EQ(ds.reports[0].leftovers, 0);
  EXPECT_EQ(
      ds.reports[0].labeled[kHappiness] + ds.reports[1].labeled[kHappiness],
      static_cast<int64_t>(ds.labeled.size()));
  EXPECT_EQ(ds.unlabeled.size(), static_cast<size_t>(ds.reports[1].leftovers));
  EXPECT_GT(ds.reports[1].leftovers, 0);
  EXPECT_EQ(ds.labeled.size() + ds.unlabeled.size(), 12u);
}

TEST(Dataset, RestrictedClassesDropAndCount) {
  TempDir tmp;
  DataConfig config;
  config.classes = {"Neutral", "Happiness"};
  config.labeled = {folder(
      make_folder(tmp, "lab", {{"happy", 2}, {"angry", 3}}), Role::kLabeled)};
  config.unlabeled = {
      folder(make_folder(tmp, "u", {{"angry", 1}}), Role::kUnlabeled)};
  config.unlabeled[0].layout = "classes";
  const Dataset ds = build_dataset(config);
  EXPECT_EQ(ds.labeled.size(), 2u);
  EXPECT_EQ(ds.labeled[0].label, 1);  // Happiness is class 1 of this space
  EXPECT_EQ(ds.reports[0].skips.counts.at("not_in_classes"), 3);
  ASSERT_EQ(ds.unlabeled.size(), 1u);
  EXPECT_EQ(ds.unlabeled[0].label, -1);  // hidden Anger is outside the space
}

TEST(Dataset, VerifyDropsOrFailsOnUndecodableImages) {
  TempDir tmp;
  const std::string root = make_folder(tmp, "lab", {{"happy", 3}});
  test::write_text_file(tmp.file("lab/happy/broken.jpg"), "not really a jpeg");
  DataConfig config;
  config.labeled = {folder(root, Role::kLabeled)};
  EXPECT_EQ(build_dataset(config).labeled.size(), 4u);  // not decoded
  BuildOptions verify;
  verify.verify = true;
  verify.threads = 2;
  const Dataset ds = build_dataset(config, verify);
  EXPECT_EQ(ds.labeled.size(), 3u);
  EXPECT_EQ(ds.reports[0].skips.counts.at("decode_error"), 1);
  EXPECT_EQ(ds.reports[0].read[kHappiness], 3);
  EXPECT_NE(
      ds.reports[0].skips.examples.at("decode_error")[0].find("broken.jpg"),
      std::string::npos);
  config.labeled[0].on_image_error = OnError::kFail;
  expect_error([&] { build_dataset(config, verify); },
               {"broken.jpg", "not a JPEG or PNG"});
}

TEST(Dataset, StatsJsonHasTheDocumentedShape) {
  TempDir tmp;
  DataConfig config;
  config.sampling.per_class = 2;
  config.labeled = {folder(make_folder(tmp, "lab", {{"happy", 3}, {"sad", 1}}),
                           Role::kLabeled)};
  config.unlabeled = {
      folder(make_folder(tmp, "u", {{"x", 2}}), Role::kUnlabeled)};
  config.validation = {
      folder(make_folder(tmp, "v", {{"fear", 2}}), Role::kValidation)};
  const auto j = nlohmann::json::parse(stats_json(build_dataset(config)));
  EXPECT_EQ(j["classes"].size(), 8u);
  EXPECT_EQ(j["classes"][0], "Neutral");
  EXPECT_EQ(j["labeled"]["total"]["Happiness"], 2);
  EXPECT_EQ(j["labeled"]["total"]["Sadness"], 1);
  EXPECT_EQ(j["labeled"]["read"]["Happiness"], 3);
  EXPECT_EQ(j["labeled"]["sources"].size(), 1u);
  EXPECT_EQ(j["unlabeled"]["total"], 3);  // 2 + 1 leftover
  EXPECT_EQ(j["unlabeled"]["from_leftovers"], 1);
  EXPECT_EQ(j["validation"]["total"]["Fear"], 2);
  EXPECT_TRUE(j["skipped"].is_object());
  EXPECT_NE(stats_text(build_dataset(config)).find("Happiness"),
            std::string::npos);
}

}  // namespace semifer::data
