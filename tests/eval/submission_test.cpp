// Finding images and frame folders, grouping frames into videos, and the
// CSV and ABAW writers, without a model.
#include "semifer/eval/submission.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "semifer/eval/inputs.h"
#include "semifer/eval/videos.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::eval {

using test::expect_error;
using test::TempDir;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  auto lines = util::read_lines(path);
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace

TEST(FindImages, FoldersOfNumberedFramesAreVideos) {
  TempDir t;
  for (const char* f : {"in/a/b.png", "in/vid/00003.jpg", "in/vid/00001.jpg",
                        "in/zero/00000.jpg", "in/zero/00001.jpg", "one.jpg"})
    test::write_pattern(t.file(f));
  test::write_text_file(t.file("in/notes.txt"), "not an image\n");
  const ImageSet set = find_images({t.file("in/"), t.file("one.jpg")});
  const data::SampleTable& table = *set.dataset.tables.at(0);
  ASSERT_EQ(set.items.size(), 6u);
  std::vector<std::string> paths;
  for (const auto& item : set.items)
    paths.push_back(set.dataset.describe(item));
  // Sorted within the folder, then the next input.
  EXPECT_NE(paths[0].find("a/b.png"), std::string::npos);
  EXPECT_NE(paths[1].find("vid/00001.jpg"), std::string::npos);
  EXPECT_NE(paths[2].find("vid/00003.jpg"), std::string::npos);
  EXPECT_NE(paths[5].find("one.jpg"), std::string::npos);
  // Only "vid" is a video: "zero" has a frame 0, which Aff-Wild2 never has.
  ASSERT_EQ(table.videos, (std::vector<std::string>{"vid"}));
  EXPECT_EQ(table.video_frames, (std::vector<int32_t>{3}));
  EXPECT_EQ(table.samples[1].frame, 1);
  EXPECT_EQ(table.samples[2].frame, 3);
  EXPECT_EQ(table.samples[0].video, -1);
  EXPECT_EQ(table.samples[3].video, -1);

  const auto videos = group_videos(set.dataset, set.items);
  ASSERT_EQ(videos.size(), 1u);
  EXPECT_EQ(videos[0].name, "vid");
  EXPECT_EQ(videos[0].length, 3);
  EXPECT_EQ(videos[0].frames, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(videos[0].rows, (std::vector<size_t>{1, 2}));

  // Two images of one frame number.
  test::write_pattern(t.file("dup/v/00001.jpg"));
  test::write_pattern(t.file("dup/v/1.png"));
  const ImageSet dup = find_images({t.file("dup")});
  expect_error([&] { group_videos(dup.dataset, dup.items); },
               {"frame 1 appears twice", "00001.jpg", "1.png"});
  expect_error([&] { find_images({t.file("nothing")}); },
               {"nothing", "does not exist"});
}

TEST(SmoothItems, VideoFramesAreSmoothedOthersKeepTheirArgmax) {
  // Items 0, 2, 3 are frames 3, 1, 2 of one video of length 4; item 1 is
  // no frame. Two classes.
  VideoItems v;
  v.name = "v";
  v.length = 4;
  v.rows = {2, 3, 0};
  v.frames = {1, 2, 3};
  const std::vector<float> probs = {0.2f, 0.8f,   // item 0, frame 3: 1
                                    0.9f, 0.1f,   // item 1: 0
                                    0.3f, 0.7f,   // item 2, frame 1: 1
                                    0.6f, 0.4f};  // item 3, frame 2: 0
  SmoothOptions o;
  o.window = 3;
  const SmoothedLabels s = smooth_items({v}, probs, 2, o);
  // Frame 2's window (1..3) votes 1, 0, 1.
  EXPECT_EQ(s.items, (std::vector<int>{1, 0, 1, 1}));
  ASSERT_EQ(s.videos.size(), 1u);
  EXPECT_EQ(s.videos[0], (std::vector<int>{1, 1, 1, 1}));
  // Without smoothing the items keep their argmax; frame 4 is filled.
  const SmoothedLabels raw = smooth_items({v}, probs, 2, SmoothOptions{});
  EXPECT_EQ(raw.items, (std::vector<int>{1, 0, 1, 0}));
  EXPECT_EQ(raw.videos[0], (std::vector<int>{1, 0, 1, 1}));
}

TEST(Submission, AbawFilesUseCanonicalIdsForEveryFrame) {
  TempDir t;
  Predictions p;
  p.classes = {"Happiness", "Neutral"};  // model order: ids 4 and 0
  p.paths = {"f/v/00001.jpg", "f/v/00003.jpg", "odd, name.jpg"};
  p.probs = {0.9f, 0.1f, 0.25f, 0.75f, 0.5f, 0.5f};
  p.labels = {0, 1, 0};
  VideoItems v;
  v.name = "v";
  v.length = 3;
  v.rows = {0, 1};
  v.frames = {1, 3};
  p.videos = {v};
  p.video_labels = {{0, 0, 1}};
  EXPECT_EQ(write_abaw_submission(p, t.file("sub")), 1);
  EXPECT_EQ(lines_of(t.file("sub/v.txt")),
            (std::vector<std::string>{kAbawHeader, "v/00001.jpg,4",
                                      "v/00002.jpg,4", "v/00003.jpg,0"}));
  write_predictions_csv(p, t.file("p.csv"));
  EXPECT_EQ(lines_of(t.file("p.csv")),
            (std::vector<std::string>{
                "path,label,Happiness,Neutral",
                "f/v/00001.jpg,Happiness,0.900000,0.100000",
                "f/v/00003.jpg,Neutral,0.250000,0.750000",
                "\"odd, name.jpg\",Happiness,0.500000,0.500000"}));
  // Two videos of one name would overwrite each other's file.
  p.videos.push_back(v);
  p.video_labels.push_back({0, 0, 0});
  expect_error([&] { write_abaw_submission(p, t.file("sub2")); },
               {"two videos are named v"});
  p.videos.clear();
  p.video_labels.clear();
  expect_error([&] { write_abaw_submission(p, t.file("sub3")); }, {"no video"});
}

// Issue 16, items 4, 10 and 12: frame numbers bounded before buffers are
// sized by them, a FIFO refused, video names that cannot be file names.
TEST(FindImages, RefusesHugeFrameNumbersAndWhatIsNotAFile) {
  TempDir t;
  // Only clip/10000000.jpg: predict allocated 1.2 GB and --abaw wrote 10
  // million lines.
  test::write_pattern(t.file("clip/10000000.jpg"));
  expect_error([&] { find_images({t.file("clip")}); },
               {"clip/10000000.jpg", "frame number 10000000 is above 1000000"});
  test::write_pattern(t.file("ok/1000000.jpg"));
  EXPECT_EQ(find_images({t.file("ok")}).dataset.tables[0]->video_frames,
            (std::vector<int32_t>{1000000}));
  const std::string fifo = t.file("pipe.jpg");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_error([&] { find_images({fifo}); },
               {fifo, "is not a regular file or a folder"});
}

TEST(Submission, VideoNamesMustBeFileNamesWithoutCommasOrNewlines) {
  TempDir t;
  Predictions p;
  p.classes = {"Happiness", "Neutral"};
  p.paths = {"f/x/00001.jpg"};
  p.probs = {0.9f, 0.1f};
  p.labels = {0};
  VideoItems v;
  v.length = 1;
  v.rows = {0};
  v.frames = {1};
  p.video_labels = {{0}};
  for (const std::string bad : {"a\nb", "a,b", "..", "", "a\"b"}) {
    v.name = bad;
    p.videos = {v};
    expect_error([&] { write_abaw_submission(p, t.file("sub")); },
                 {"cannot name an ABAW file"});
  }
  // An existing link in the output folder is replaced, not followed.
  const std::string target = test::write_text_file(t.file("keep.txt"), "x");
  std::filesystem::create_directories(t.file("out"));
  std::filesystem::create_symlink(target, t.file("out/v.txt"));
  v.name = "v";
  p.videos = {v};
  EXPECT_EQ(write_abaw_submission(p, t.file("out")), 1);
  EXPECT_EQ(lines_of(target), (std::vector<std::string>{"x"}));
  EXPECT_EQ(lines_of(t.file("out/v.txt")).size(), 2u);
}

}  // namespace semifer::eval
