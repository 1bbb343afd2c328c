#include <gtest/gtest.h>

#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

TEST(Folder, ClassFoldersMatchSynonymsCaseInsensitively) {
  TempDir tmp;
  test::write_pattern(tmp.file("root/Angry/a.jpg"));
  test::write_pattern(tmp.file("root/happy/b.png"));
  test::write_pattern(tmp.file("root/happy/sub/c.jpg"));
  test::write_pattern(tmp.file("root/SADNESS/d.JPG"));
  test::write_pattern(tmp.file("root/contempt/e.jpg"));
  test::write_pattern(tmp.file("root/misc/f.jpg"));
  test::write_text_file(tmp.file("root/happy/notes.txt"), "x");
  SourceConfig c;
  c.format = Format::kFolder;
  c.root = tmp.file("root");
  ReadResult r = read_source(c);
  const auto& s = r.table->samples;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].label, kAnger);
  EXPECT_EQ(s[1].label, kSadness);
  EXPECT_EQ(s[2].label, kHappiness);
  EXPECT_EQ(s[3].label, kHappiness);
  EXPECT_EQ(r.skips.counts.at("dropped_contempt"), 1);
  EXPECT_EQ(r.skips.counts.at("unknown_class_folder"), 1);
  EXPECT_EQ(r.skips.counts.at("not_an_image"), 1);
}

TEST(Folder, FlatLayoutIsRecursiveAndUnlabeled) {
  TempDir tmp;
  test::write_pattern(tmp.file("pool/x/1.jpg"));
  test::write_pattern(tmp.file("pool/x/y/2.jpg"));
  test::write_pattern(tmp.file("pool/3.png"));
  SourceConfig c;
  c.format = Format::kFolder;
  c.role = Role::kUnlabeled;
  c.root = tmp.file("pool");
  ReadResult r = read_source(c);
  ASSERT_EQ(r.table->samples.size(), 3u);
  for (const auto& s : r.table->samples) EXPECT_EQ(s.label, -1);
  // An unlabeled folder with class folders keeps the labels as hidden labels.
  TempDir tmp2;
  test::write_pattern(tmp2.file("fer/happy/1.jpg"));
  c.root = tmp2.file("fer");
  c.layout = "classes";
  EXPECT_EQ(read_source(c).table->samples[0].label, kHappiness);
}

TEST(Folder, NoKnownClassFolderIsAnError) {
  TempDir tmp;
  test::write_pattern(tmp.file("root/cats/1.jpg"));
  SourceConfig c;
  c.format = Format::kFolder;
  c.root = tmp.file("root");
  expect_error([&] { read_source(c); }, {"root", "layout: flat"});
  c.root = tmp.file("absent");
  expect_error([&] { read_source(c); }, {"absent", "does not exist"});
}

TEST(CsvList, NamesIdsHeaderAndRoot) {
  TempDir tmp;
  test::write_pattern(tmp.file("imgs/a.jpg"));
  test::write_pattern(tmp.file("imgs/b.jpg"));
  test::write_pattern(tmp.file("imgs/c.jpg"));
  SourceConfig c;
  c.format = Format::kCsv;
  c.csv = test::write_text_file(
      tmp.file("list.csv"),
      "path,label\na.jpg,happy\nb.jpg,7\nc.jpg,Fear\nd.jpg,0\n");
  c.root = tmp.file("imgs");
  ReadResult r = read_source(c);
  ASSERT_EQ(r.table->samples.size(), 3u);
  EXPECT_EQ(r.table->samples[0].label, kHappiness);
  EXPECT_EQ(r.table->samples[1].label, kOther);
  EXPECT_EQ(r.table->samples[2].label, kFear);
  EXPECT_EQ(r.skips.counts.at("missing_image"), 1);

  c.csv = test::write_text_file(tmp.file("bad.csv"), "a.jpg,joyful\n");
  expect_error([&] { read_source(c); },
               {"bad.csv:1", "unknown label 'joyful'"});
  c.csv = test::write_text_file(tmp.file("bad2.csv"), "a.jpg,9\n");
  expect_error([&] { read_source(c); }, {"bad2.csv:1", "'9'"});
  c.csv = test::write_text_file(tmp.file("bad3.csv"), "a.jpg\n");
  expect_error([&] { read_source(c); }, {"bad3.csv:1", "missing label"});
  // Unlabeled lists may omit the label.
  c.role = Role::kUnlabeled;
  EXPECT_EQ(read_source(c).table->samples.size(), 1u);
}

}  // namespace semifer::data
