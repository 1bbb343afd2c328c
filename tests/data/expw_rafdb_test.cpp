#include <gtest/gtest.h>

#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

TEST(ExpW, ReadsFacesAndCropsTheBox) {
  TempDir tmp;
  test::write_pattern(tmp.file("img/party.png"), 40, 30);
  test::write_pattern(tmp.file("img/solo.png"), 20, 20);
  const std::string list =
      test::write_text_file(tmp.file("label.lst"),
                            "party.png 0 5 10 20 25 88.5 3\n"
                            "party.png 1 2 22 30 12 50.1 6\n"
                            "solo.png 0 0 0 20 20 99.0 0\n");
  SourceConfig c;
  c.format = Format::kExpW;
  c.list = list;
  c.images = tmp.file("img");
  ReadResult r = read_source(c);
  const auto& s = r.table->samples;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].label, kHappiness);
  EXPECT_EQ(s[1].label, kNeutral);
  EXPECT_EQ(s[2].label, kAnger);
  // top 5, left 10, right 20, bottom 25 -> x 10, y 5, w 10, h 20
  const io::Image face = load_image(*r.table, 0);
  EXPECT_EQ(face.width, 10);
  EXPECT_EQ(face.height, 20);
  EXPECT_EQ(face.pixel(0, 0)[1], test::pattern_image(40, 30).pixel(10, 5)[1]);

  const std::string bad = test::write_text_file(
      tmp.file("bad.lst"), "party.png 0 5 10 20 25 88.5 7\n");
  c.list = bad;
  expect_error([&] { read_source(c); }, {"bad.lst:1", "unknown label id '7'"});
  c.list = test::write_text_file(tmp.file("short.lst"), "party.png 0 5\n");
  expect_error([&] { read_source(c); }, {"short.lst:1", "expected 8 fields"});
  c.list = test::write_text_file(tmp.file("box.lst"),
                                 "party.png 0 25 10 20 5 88.5 1\n");
  expect_error([&] { read_source(c); }, {"box.lst:1", "bad face box"});
}

TEST(RafDb, MapsLabelsAndUsesAlignedImages) {
  TempDir tmp;
  for (const char* n : {"train_00001", "train_00002", "test_0001"}) {
    test::write_pattern(tmp.file(std::string("aligned/") + n + "_aligned.jpg"));
  }
  const std::string list =
      test::write_text_file(tmp.file("list_patition_label.txt"),
                            "train_00001.jpg 5\ntrain_00002.jpg "
                            "7\ntest_0001.jpg 1\ntrain_00003.jpg 2\n");
  SourceConfig c;
  c.format = Format::kRafDb;
  c.list = list;
  c.images = tmp.file("aligned");
  ReadResult r = read_source(c);
  ASSERT_EQ(r.table->samples.size(), 3u);
  EXPECT_EQ(r.table->samples[0].label, kSadness);
  EXPECT_EQ(r.table->samples[1].label, kNeutral);
  EXPECT_EQ(r.table->samples[2].label, kSurprise);
  EXPECT_NE(r.table->paths[0].find("train_00001_aligned.jpg"),
            std::string::npos);
  EXPECT_EQ(r.skips.counts.at("missing_image"), 1);
  c.split = "test";
  EXPECT_EQ(read_source(c).table->samples.size(), 1u);
  c.split = "train";
  EXPECT_EQ(read_source(c).table->samples.size(), 2u);

  c.list = test::write_text_file(tmp.file("bad.txt"), "train_00001.jpg 0\n");
  expect_error([&] { read_source(c); }, {"bad.txt:1", "unknown label id '0'"});
  c.list = test::write_text_file(tmp.file("bad2.txt"), "train_00001.jpg\n");
  expect_error([&] { read_source(c); }, {"bad2.txt:1"});
}

}  // namespace semifer::data
