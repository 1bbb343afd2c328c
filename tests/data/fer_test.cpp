#include <gtest/gtest.h>

#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

namespace {
std::string pixels(int base) {
  std::string s;
  for (int i = 0; i < 48 * 48; ++i) {
    if (i) s += ' ';
    s += std::to_string((base + i) % 256);
  }
  return s;
}
}  // namespace

TEST(Fer2013Csv, ReadsInlinePixelsAndFiltersUsage) {
  TempDir tmp;
  const std::string csv = test::write_text_file(
      tmp.file("fer2013.csv"),
      "emotion,pixels,Usage\n"
      "0," +
          pixels(0) + ",Training\n" + "6," + pixels(5) + ",PublicTest\n" +
          "3," + pixels(9) + ",Training\n");
  SourceConfig c;
  c.format = Format::kFer2013Csv;
  c.csv = csv;
  ReadResult r = read_source(c);
  ASSERT_EQ(r.table->samples.size(), 2u);
  EXPECT_EQ(r.table->samples[0].label, kAnger);
  EXPECT_EQ(r.table->samples[1].label, kHappiness);
  const io::Image img = load_image(*r.table, 1);
  EXPECT_EQ(img.width, 48);
  EXPECT_EQ(img.pixel(1, 0)[0], 10);
  EXPECT_EQ(img.pixel(1, 0)[2], 10);
  EXPECT_NE(r.table->describe(1).find("fer2013.csv:4"), std::string::npos);
  c.usage = "PublicTest";
  ReadResult pub = read_source(c);
  ASSERT_EQ(pub.table->samples.size(), 1u);
  EXPECT_EQ(pub.table->samples[0].label, kNeutral);
  c.usage = "all";
  EXPECT_EQ(read_source(c).table->samples.size(), 3u);
}

TEST(Fer2013Csv, BadRowsNameLine) {
  TempDir tmp;
  SourceConfig c;
  c.format = Format::kFer2013Csv;
  c.csv = test::write_text_file(tmp.file("a.csv"), "label,image\n1,2\n");
  expect_error([&] { read_source(c); }, {"a.csv:1", "header"});
  c.csv = test::write_text_file(tmp.file("b.csv"),
                                "emotion,pixels,Usage\n0,1 2 3,Training\n");
  expect_error([&] { read_source(c); }, {"b.csv:2", "2304"});
  c.csv =
      test::write_text_file(tmp.file("c.csv"), "emotion,pixels,Usage\n9," +
                                                   pixels(0) + ",Training\n");
  expect_error([&] { read_source(c); }, {"c.csv:2", "unknown emotion id '9'"});
  c.csv = test::write_text_file(
      tmp.file("d.csv"),
      "emotion,pixels,Usage\n1," + pixels(0) + " 300,Training\n");
  expect_error([&] { read_source(c); }, {"d.csv:2"});
  c.csv = test::write_text_file(tmp.file("e.csv"), "");
  expect_error([&] { read_source(c); }, {"e.csv"});
}

TEST(FerPlus, MajorityVoteWithDropsAndTies) {
  TempDir tmp;
  for (int i = 0; i < 8; ++i) {
    test::write_pattern(
        tmp.file("FER2013Train/fer000000" + std::to_string(i) + ".png"), 48, 48,
        i);
  }
  const std::string csv = test::write_text_file(
      tmp.file("FER2013Train/label.csv"),
      "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\n"    // neutral
      "fer0000001.png,\"(0, 0, 48, 48)\",0,10,0,0,0,0,0,0,0,0\n"   // happiness
      "fer0000002.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,6,0,0,0\n"    // fear
      "fer0000003.png,\"(0, 0, 48, 48)\",3,3,0,0,0,0,0,0,0,0\n"    // tie
      "fer0000004.png,\"(0, 0, 48, 48)\",1,0,0,0,0,0,0,5,0,0\n"    // contempt
      "fer0000005.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,0,0,6,0\n"    // unknown
      "fer0000006.png,\"(0, 0, 48, 48)\",0,0,0,0,0,0,0,0,0,9\n"    // NF
      "fer0000007.png,\"(4, 4, 40, 40)\",0,0,0,0,7,1,0,0,0,0\n");  // anger
  SourceConfig c;
  c.format = Format::kFerPlus;
  c.csv = csv;
  c.images = tmp.file("FER2013Train");
  ReadResult r = read_source(c);
  const auto& t = *r.table;
  ASSERT_EQ(t.samples.size(), 4u);
  EXPECT_EQ(t.samples[0].label, kNeutral);
  EXPECT_EQ(t.samples[1].label, kHappiness);
  EXPECT_EQ(t.samples[2].label, kFear);
  EXPECT_EQ(t.samples[3].label, kAnger);
  EXPECT_EQ(r.skips.counts.at("ferplus_tie"), 1);
  EXPECT_EQ(r.skips.counts.at("dropped_contempt"), 1);
  EXPECT_EQ(r.skips.counts.at("dropped_unknown"), 1);
  EXPECT_EQ(r.skips.counts.at("dropped_no_face"), 1);
  // The vote distribution is kept for soft labels.
  ASSERT_GE(t.samples[0].votes, 0);
  const auto& v = t.votes[t.samples[0].votes];
  EXPECT_EQ(v[0], 4);
  EXPECT_EQ(v[4], 3);
  EXPECT_EQ(v[5], 2);
  EXPECT_EQ(load_image(t, 3).width, 40);

  c.csv = test::write_text_file(
      tmp.file("bad.csv"),
      "fer0000000.png,\"(0, 0, 48)\",1,0,0,0,0,0,0,0,0,0\n");
  expect_error([&] { read_source(c); }, {"bad.csv:1", "face box"});
  c.csv = test::write_text_file(tmp.file("bad2.csv"),
                                "fer0000000.png,\"(0, 0, 48, 48)\",1,0\n");
  expect_error([&] { read_source(c); }, {"bad2.csv:1", "12 columns"});
}

}  // namespace semifer::data
