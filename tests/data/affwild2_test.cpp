#include <gtest/gtest.h>

#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::data {

using test::expect_error;
using test::TempDir;

namespace {

const char* kHeader =
    "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n";

SourceConfig config_for(const TempDir& tmp, Role role = Role::kLabeled) {
  SourceConfig c;
  c.format = Format::kAffWild2;
  c.role = role;
  c.name = "aw";
  c.annotations = tmp.file("ann");
  c.images = tmp.file("img");
  return c;
}

void frames(const TempDir& tmp, const std::string& video,
            std::vector<int> numbers) {
  for (int n : numbers) {
    char name[32];
    std::snprintf(name, sizeof(name), "img/%s/%05d.jpg", video.c_str(), n);
    // PNG bytes under a .jpg name (the decoder sniffs content), so a test
    // can compare decoded pixels exactly.
    const auto png = io::encode_png(test::pattern_image(8, 8, n));
    util::write_file(tmp.file(name), png.data(), png.size());
  }
}

}  // namespace

TEST(AffWild2, ReadsFramesLabelsAndVideos) {
  TempDir tmp;
  test::write_text_file(tmp.file("ann/v1.txt"),
                        std::string(kHeader) + "0\n4\n-1\n7\n2\n");
  test::write_text_file(tmp.file("ann/v2_left.txt"),
                        std::string(kHeader) + "5\n6\n");
  test::write_text_file(tmp.file("ann/v2_right.txt"),
                        std::string(kHeader) + "1\n");
  frames(tmp, "v1", {1, 2, 3, 4});  // frame 5 has no image
  frames(tmp, "v2_left", {1, 2});
  frames(tmp, "v2_right", {1});
  ReadResult r = read_source(config_for(tmp));
  const SampleTable& t = *r.table;
  ASSERT_EQ(t.samples.size(), 7u);  // 4 + 2 + 1; frame 5 of v1 skipped
  EXPECT_EQ(r.skips.counts.at("missing_frame"), 1);
  EXPECT_EQ(t.videos, (std::vector<std::string>{"v1", "v2_left", "v2_right"}));
  // Video lengths count every listed frame, the one without an image too.
  EXPECT_EQ(t.video_frames, (std::vector<int32_t>{5, 2, 1}));
  // v1: frame 1 Neutral, 2 Happiness, 3 unannotated (-1, kept for the
  // unlabeled pool), 4 Other.
  EXPECT_EQ(t.samples[0].label, kNeutral);
  EXPECT_EQ(t.samples[1].label, kHappiness);
  EXPECT_EQ(t.samples[2].label, -1);
  EXPECT_EQ(t.samples[3].label, kOther);
  EXPECT_EQ(t.samples[3].frame, 4);
  EXPECT_EQ(t.videos[t.samples[3].video], "v1");
  // Line n after the header is image n.
  EXPECT_NE(t.paths[t.samples[1].path].find("img/v1/00002.jpg"),
            std::string::npos);
  EXPECT_EQ(t.samples[5].label, kSurprise);
  EXPECT_EQ(t.videos[t.samples[6].video], "v2_right");
  EXPECT_EQ(t.samples[6].label, kAnger);
  // The decoded frame is the one written for that number.
  EXPECT_EQ(load_image(t, 1).data, test::pattern_image(8, 8, 2).data);
  EXPECT_NE(load_image(t, 1).data, test::pattern_image(8, 8, 1).data);
}

TEST(AffWild2, UnannotatedFramesAreDroppedInValidation) {
  TempDir tmp;
  test::write_text_file(tmp.file("ann/v.txt"),
                        std::string(kHeader) + "-1\n3\n");
  frames(tmp, "v", {1, 2});
  ReadResult r = read_source(config_for(tmp, Role::kValidation));
  ASSERT_EQ(r.table->samples.size(), 1u);
  EXPECT_EQ(r.table->samples[0].label, kFear);
  EXPECT_EQ(r.skips.counts.at("unannotated"), 1);
  EXPECT_EQ(r.table->video_frames, (std::vector<int32_t>{2}));
}

TEST(AffWild2, VideoLengthIncludesTrailingFramesWithoutImages) {
  TempDir tmp;
  // Frames 3 and 4 (the last ones) have no image; a blank last line is not a
  // frame.
  test::write_text_file(tmp.file("ann/v.txt"),
                        std::string(kHeader) + "0\n1\n2\n3\n\n");
  frames(tmp, "v", {1, 2});
  ReadResult r = read_source(config_for(tmp, Role::kValidation));
  EXPECT_EQ(r.table->samples.size(), 2u);
  EXPECT_EQ(r.skips.counts.at("missing_frame"), 2);
  ASSERT_EQ(r.table->videos.size(), 1u);
  EXPECT_EQ(r.table->video_frames, (std::vector<int32_t>{4}));
}

TEST(AffWild2, BadAnnotationsNameFileAndLine) {
  TempDir tmp;
  test::write_text_file(tmp.file("ann/a.txt"), "Valence,Arousal\n0.1,0.2\n");
  frames(tmp, "a", {1});
  SourceConfig c = config_for(tmp);
  expect_error([&] { read_source(c); }, {"a.txt:1", "expected the header"});

  TempDir tmp2;
  test::write_text_file(tmp2.file("ann/b.txt"),
                        std::string(kHeader) + "0\nhappy\n");
  frames(tmp2, "b", {1, 2});
  expect_error([&] { read_source(config_for(tmp2)); }, {"b.txt:3", "'happy'"});

  TempDir tmp3;
  test::write_text_file(tmp3.file("ann/c.txt"),
                        std::string(kHeader) + "0\n\n1\n");
  frames(tmp3, "c", {1, 2, 3});
  expect_error([&] { read_source(config_for(tmp3)); }, {"c.txt:3"});

  TempDir tmp4;
  test::write_text_file(tmp4.file("ann/d.txt"), std::string(kHeader) + "9\n");
  frames(tmp4, "d", {1});
  expect_error([&] { read_source(config_for(tmp4)); },
               {"d.txt:2", "unknown label id 9"});

  // With on_error: skip the bad line is counted and the rest is read.
  SourceConfig skip = config_for(tmp2);
  skip.on_annotation_error = OnError::kSkip;
  ReadResult r = read_source(skip);
  EXPECT_EQ(r.table->samples.size(), 1u);
  EXPECT_EQ(r.skips.counts.at("malformed_line"), 1);
}

TEST(AffWild2, MissingFoldersAreErrors) {
  TempDir tmp;
  SourceConfig c;
  c.format = Format::kAffWild2;
  c.annotations = tmp.file("nope");
  c.images = tmp.file("img");
  expect_error([&] { read_source(c); }, {"nope", "does not exist"});
}

}  // namespace semifer::data
