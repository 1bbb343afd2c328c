#include <gtest/gtest.h>

#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

namespace {
SourceConfig affectnet(const TempDir& tmp, const std::string& csv) {
  SourceConfig c;
  c.format = Format::kAffectNet;
  c.csv = csv;
  c.images = tmp.file("img");
  return c;
}
const char* kHeader =
    "subDirectory_filePath,face_x,face_y,face_width,face_height,"
    "facial_landmarks,expression,valence,arousal\n";
}  // namespace

TEST(AffectNet, MapsCodesAndDropsNonExpressions) {
  TempDir tmp;
  for (int i = 0; i < 12; ++i) {
    test::write_pattern(tmp.file("img/1/" + std::to_string(i) + ".jpg"), 20, 20,
                        i);
  }
  std::string rows = kHeader;
  // codes 0..10 and one row whose image is missing
  for (int code = 0; code <= 10; ++code) {
    rows += "1/" + std::to_string(code) + ".jpg,2,3,10,12,\"1.0;2.0;3.0\"," +
            std::to_string(code) + ",0.1,-0.2\n";
  }
  rows += "1/404.jpg,0,0,5,5,\"\",1,0,0\n";
  ReadResult r = read_source(
      affectnet(tmp, test::write_text_file(tmp.file("training.csv"), rows)));
  const auto& s = r.table->samples;
  ASSERT_EQ(s.size(), 7u);
  const int expected[7] = {kNeutral, kHappiness, kSadness, kSurprise,
                           kFear,    kDisgust,   kAnger};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(s[i].label, expected[i]) << i;
  EXPECT_EQ(r.skips.counts.at("dropped_contempt"), 1);
  EXPECT_EQ(r.skips.counts.at("dropped_none"), 1);
  EXPECT_EQ(r.skips.counts.at("dropped_uncertain"), 1);
  EXPECT_EQ(r.skips.counts.at("dropped_no_face"), 1);
  EXPECT_EQ(r.skips.counts.at("missing_image"), 1);
  EXPECT_TRUE(s[0].box.empty());
}

TEST(AffectNet, HeaderlessFileAndFaceCrop) {
  TempDir tmp;
  test::write_pattern(tmp.file("img/a.png"), 30, 30);
  SourceConfig c =
      affectnet(tmp, test::write_text_file(tmp.file("validation.csv"),
                                           "a.png,2,3,10,12,,6,0,0\n"));
  c.crop_face = true;
  ReadResult r = read_source(c);
  ASSERT_EQ(r.table->samples.size(), 1u);
  EXPECT_EQ(r.table->samples[0].label, kAnger);
  const io::Image face = load_image(*r.table, 0);
  EXPECT_EQ(face.width, 10);
  EXPECT_EQ(face.height, 12);
  EXPECT_EQ(face.pixel(0, 0)[0], test::pattern_image(30, 30).pixel(2, 3)[0]);
}

TEST(AffectNet, BadRowsNameLine) {
  TempDir tmp;
  test::write_pattern(tmp.file("img/a.png"), 8, 8);
  const std::string csv = test::write_text_file(
      tmp.file("t.csv"),
      std::string(kHeader) + "a.png,0,0,8,8,,0,0,0\na.png,0,0,8,8,,12,0,0\n");
  expect_error([&] { read_source(affectnet(tmp, csv)); },
               {"t.csv:3", "unknown expression code '12'"});
  const std::string shortrow =
      test::write_text_file(tmp.file("s.csv"), "a.png,0,0\n");
  expect_error([&] { read_source(affectnet(tmp, shortrow)); },
               {"s.csv:1", "columns"});
  SourceConfig missing_fail = affectnet(
      tmp, test::write_text_file(tmp.file("m.csv"), "b.png,0,0,8,8,,0,0,0\n"));
  missing_fail.on_image_error = OnError::kFail;
  expect_error([&] { read_source(missing_fail); },
               {"m.csv:1", "b.png", "does not exist"});
}

}  // namespace semifer::data
