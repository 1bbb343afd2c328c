// Issue 16's reproducers on the data side: links in image folders (item 8),
// an Aff-Wild2 video folder that cannot be listed (item 6), RecordIO header
// labels and index offsets (item 12), face boxes beyond int32 or of negative
// size (item 12), and annotation lines of any length and content (item 11).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "semifer/data/formats.h"
#include "semifer/data/labels.h"
#include "semifer/io/recordio.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::data {

namespace fs = std::filesystem;
using test::expect_error;
using test::TempDir;

TEST(BadInput, ALinkLoopCountsAnImageOnceAndASiblingLinkDoesNotRelabel) {
  TempDir tmp;
  test::write_pattern(tmp.file("root/happy/a.jpg"));
  test::write_pattern(tmp.file("root/sad/b.jpg"));
  test::write_pattern(tmp.file("root/sad/c.jpg"));
  // `ln -s . happy/loop` counted a.jpg 41 times; a link to sad relabelled
  // its images as happy.
  fs::create_directory_symlink(".", tmp.file("root/happy/loop"));
  fs::create_directory_symlink("../sad", tmp.file("root/happy/more"));
  ASSERT_EQ(::mkfifo(tmp.file("root/happy/pipe.jpg").c_str(), 0600), 0);
  SourceConfig c;
  c.format = Format::kFolder;
  c.root = tmp.file("root");
  const ReadResult r = read_source(c);
  const auto& s = r.table->samples;
  ASSERT_EQ(s.size(), 3u);
  int happy = 0, sad = 0;
  for (const auto& x : s) (x.label == kHappiness ? happy : sad) += 1;
  EXPECT_EQ(happy, 1);
  EXPECT_EQ(sad, 2);
  EXPECT_EQ(r.skips.counts.at("repeated_folder_link"), 2);
  EXPECT_EQ(r.skips.counts.at("not_a_regular_file"), 1);
  // A class folder that is a link to another one: the real folder is read
  // with its own label, though "angry" sorts before "sad".
  fs::create_directory_symlink("sad", tmp.file("root/angry"));
  const ReadResult again = read_source(c);
  int anger = 0;
  for (const auto& x : again.table->samples) anger += x.label == kAnger;
  EXPECT_EQ(again.table->samples.size(), 3u);
  EXPECT_EQ(anger, 0);
  EXPECT_EQ(again.skips.counts.at("repeated_folder_link"), 3);
}

TEST(BadInput, AnAffWild2VideoFolderThatCannotBeListedIsAnImageError) {
  TempDir tmp;
  test::write_text_file(
      tmp.file("ann/v1.txt"),
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n1\n2\n");
  SourceConfig c;
  c.format = Format::kAffWild2;
  c.annotations = tmp.file("ann");
  c.images = tmp.file("img");
  c.on_image_error = OnError::kFail;
  // A file where the video's folder should be: it cannot be listed, for
  // root too (a chmod 000 folder binds every other user the same way).
  test::write_text_file(tmp.file("img/v1"), "not a folder");
  expect_error([&] { read_source(c); }, {"cannot read", "img/v1"});
  c.on_image_error = OnError::kSkip;
  const ReadResult skipped = read_source(c);
  EXPECT_EQ(skipped.skips.counts.at("unreadable_image"), 1);
  EXPECT_TRUE(skipped.table->samples.empty());
  // chmod 000 (only where permissions bind this process).
  fs::remove(tmp.file("img/v1"));
  test::write_pattern(tmp.file("img/v1/00001.jpg"));
  ::chmod(tmp.file("img/v1").c_str(), 0);
  if (::geteuid() != 0) {
    c.on_image_error = OnError::kFail;
    expect_error([&] { read_source(c); }, {"cannot read", "img/v1"});
  }
  ::chmod(tmp.file("img/v1").c_str(), 0755);
  // A video without a folder is frames without faces, as before.
  fs::remove_all(tmp.file("img/v1"));
  c.on_image_error = OnError::kFail;
  EXPECT_EQ(read_source(c).skips.counts.at("missing_frame"), 2);
}

TEST(BadInput, RecordIOHeaderLabelsAndIndexOffsetsAreBounded) {
  TempDir tmp;
  const std::string rec = tmp.file("train.rec"), idx = tmp.file("train.idx");
  auto write = [&](float first) {
    io::RecordWriter w(rec, idx);
    w.write(0, io::pack_image_record({first, 7.0f}, 0, {}));
    w.write(1, io::pack_image_record(
                   {0.0f}, 0, io::encode_png(test::pattern_image(8, 8))));
    w.close();
  };
  SourceConfig c;
  c.format = Format::kRecordIO;
  c.role = Role::kUnlabeled;
  c.rec = rec;
  c.idx = idx;
  // inf and 1e30 made the cast undefined and dropped every image silently.
  for (float bad : {std::numeric_limits<float>::infinity(), 1e30f, 2.5f}) {
    write(bad);
    expect_error([&] { read_source(c); },
                 {"train.rec: record 0", "whole numbers from 1 to 2^24"});
  }
  write(2.0f);
  EXPECT_EQ(read_source(c).table->samples.size(), 1u);
  // An offset near 2^64 wrapped past the bound check.
  test::write_text_file(idx, "0\t0\n1\t18446744073709551612\n");
  expect_error([&] { read_source(c); },
               {"train.idx: record 1", "beyond the end of"});
}

TEST(BadInput, FaceBoxesBeyondInt32OrOfNegativeSizeAreMalformed) {
  TempDir tmp;
  test::write_pattern(tmp.file("img/a.png"), 30, 30);
  // ExpW: top left right bottom; 2^32 + 5 wrapped to a 1x1 crop.
  SourceConfig expw;
  expw.format = Format::kExpW;
  expw.images = tmp.file("img");
  expw.list = test::write_text_file(tmp.file("label.lst"),
                                    "a.png 0 0 0 4294967301 20 90.0 3\n");
  expect_error([&] { read_source(expw); }, {"label.lst:1", "bad face box"});
  expw.list = test::write_text_file(
      tmp.file("label2.lst"),
      "a.png 0 -9223372036854775807 0 9223372036854775807 20 90.0 3\n");
  expect_error([&] { read_source(expw); }, {"label2.lst:1", "bad face box"});
  // AffectNet: x y w h.
  SourceConfig an;
  an.format = Format::kAffectNet;
  an.images = tmp.file("img");
  an.crop_face = true;
  an.csv = test::write_text_file(tmp.file("t.csv"),
                                 "a.png,2,3,4294967297,4294967297,,6,0,0\n");
  expect_error([&] { read_source(an); }, {"t.csv:1", "bad face box"});
  // FER+: a box of negative size was accepted.
  test::write_pattern(tmp.file("FER2013Train/fer0.png"), 48, 48);
  SourceConfig fp;
  fp.format = Format::kFerPlus;
  fp.csv = test::write_text_file(
      tmp.file("FER2013Train/label.csv"),
      "fer0.png,\"(10, 10, -5, 20)\",0,10,0,0,0,0,0,0,0,0\n");
  fp.images = tmp.file("FER2013Train");
  expect_error([&] { read_source(fp); }, {"label.csv:1", "bad face box"});
}

TEST(BadInput, AMalformedLineIsQuotedShortAndVisible) {
  TempDir tmp;
  // A 1 MB line was printed whole; a byte-order mark or a control byte was
  // invisible.
  test::write_pattern(tmp.file("img/a.png"));
  std::string line = "\x01" + std::string(1 << 20, '9');
  const std::string list = test::write_text_file(
      tmp.file("label.lst"), "a.png 0 0 0 8 8 90.0 " + line + "\n");
  SourceConfig c;
  c.format = Format::kExpW;
  c.list = list;
  c.images = tmp.file("img");
  try {
    read_source(c);
    ADD_FAILURE() << "no error";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_LT(m.size(), 400u) << m.substr(0, 400);
    EXPECT_NE(m.find("label.lst:1"), std::string::npos) << m;
    EXPECT_NE(m.find("\\x01"), std::string::npos) << m;
    EXPECT_NE(m.find("bytes)"), std::string::npos) << m;
  }
}

}  // namespace semifer::data
