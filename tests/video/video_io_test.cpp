#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "semifer/io/video.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace fs = std::filesystem;

namespace semifer::test {

namespace {

// Frame n is a pattern (frames of some size, so that cutting the file
// cuts frames, not its header) with a flat gray 8 * n corner to check
// through JPEG.
io::Image numbered_frame(int n, int w = 64, int h = 48) {
  io::Image im = pattern_image(w, h, n);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c)
        im.pixel(x, y)[c] = static_cast<uint8_t>(8 * n);
  return im;
}

std::string write_video(const TempDir& t, const std::string& name, int frames,
                        double fps = 25, int w = 64, int h = 48) {
  const std::string path = t.file(name);
  io::VideoWriter writer(path, w, h, fps);
  for (int n = 1; n <= frames; ++n) writer.write(numbered_frame(n, w, h));
  writer.close();
  return path;
}

}  // namespace

TEST(VideoIo, WritesAndReadsAnMjpgAviFrameByFrame) {
  TempDir t;
  const std::string path = write_video(t, "clip.avi", 20);
  auto source = io::open_frames(path);
  const io::SourceInfo& info = source->info();
  EXPECT_EQ(info.name, "clip");
  EXPECT_EQ(info.kind, io::SourceKind::kVideoFile);
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 48);
  EXPECT_NEAR(info.fps, 25.0, 1e-6);
  EXPECT_EQ(info.frame_count, 20);
  io::Frame f;
  for (int n = 1; n <= 20; ++n) {
    ASSERT_TRUE(source->next(f)) << n;
    EXPECT_EQ(f.number, n);
    EXPECT_NEAR(f.timestamp_ms, (n - 1) * 40.0, 1.0);
    ASSERT_EQ(f.image.width, 64);
    EXPECT_NEAR(f.image.pixel(6, 6)[0], 8 * n, 4) << n;
  }
  EXPECT_FALSE(source->next(f));
}

TEST(VideoIo, ABrokenTailIsAnErrorAfterTheGoodFrames) {
  TempDir t;
  const std::string path = write_video(t, "cut.avi", 30, 25, 320, 240);
  // Cut the file in the middle of its frames: the header still announces
  // 30 (and the index at the end is gone).
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  auto source = io::open_frames(path);
  io::Frame f;
  int good = 0;
  try {
    while (source->next(f)) ++good;
    ADD_FAILURE() << "a cut video read to its end (" << good << " frames)";
  } catch (const semifer::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("of the 30 its container announces"), std::string::npos)
        << m;
  }
  EXPECT_GT(good, 5);
  EXPECT_LT(good, 30);
}

TEST(VideoIo, RefusesWhatIsNoVideo) {
  TempDir t;
  expect_error([&] { io::open_frames(t.file("none.mp4")); },
               {"none.mp4", "does not exist"});
  const std::string text = write_text_file(t.file("notes.mp4"), "not a video");
  expect_error([&] { io::open_frames(text); }, {"cannot open video", text});
  const std::string empty = write_text_file(t.file("empty.avi"), "");
  expect_error([&] { io::open_frames(empty); }, {"cannot open video", empty});
  const std::string fifo = t.file("pipe.avi");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_error([&] { io::open_frames(fifo); }, {"not a regular file"});
  fs::create_directories(t.file("nothing"));
  expect_error([&] { io::open_frames(t.file("nothing")); },
               {"holds no images"});
  expect_error([&] { io::open_frames(t.file("nothing"), 0); }, {"frame rate"});
}

TEST(VideoIo, FramesAboveThePixelLimitAreRefusedBeforeDecoding) {
  TempDir t;
  const std::string path = write_video(t, "big.avi", 3);
  const int64_t old = io::max_image_pixels();
  io::set_max_image_pixels(64 * 47);
  expect_error([&] { io::open_frames(path); }, {path, "64x48", "pixel limit"});
  io::set_max_image_pixels(old);
}

TEST(VideoIo, FrameFoldersGoByNumberAndPhotoFoldersByName) {
  TempDir t;
  for (int n : {3, 1, 10})
    io::write_image(
        t.file(util::join_path("clip7",
                               std::string(5 - std::to_string(n).size(), '0') +
                                   std::to_string(n) + ".png")),
        numbered_frame(n));
  auto frames = io::open_frames(t.file("clip7"), 10.0);
  EXPECT_EQ(frames->info().kind, io::SourceKind::kFrameFolder);
  EXPECT_EQ(frames->info().name, "clip7");
  io::Frame f;
  std::vector<int64_t> numbers;
  std::vector<double> times;
  while (frames->next(f)) {
    numbers.push_back(f.number);
    times.push_back(f.timestamp_ms);
    EXPECT_EQ(f.image.pixel(2, 2)[0], 8 * f.number);
  }
  EXPECT_EQ(numbers, (std::vector<int64_t>{1, 3, 10}));
  EXPECT_EQ(times, (std::vector<double>{0, 200, 900}));

  write_pattern(t.file("photos/b.jpg"), 30, 20);
  write_pattern(t.file("photos/a.png"), 20, 30);
  write_pattern(t.file("photos/sub/c.png"), 10, 10);
  auto photos = io::open_frames(t.file("photos"));
  EXPECT_EQ(photos->info().kind, io::SourceKind::kPhotoFolder);
  std::vector<std::string> files;
  while (photos->next(f)) {
    files.push_back(fs::path(f.file).filename().string());
    EXPECT_EQ(f.timestamp_ms, 0);
  }
  EXPECT_EQ(files, (std::vector<std::string>{"a.png", "b.jpg", "c.png"}));

  // A bad photo is an error naming it.
  write_text_file(t.file("bad/x.jpg"), "not a jpeg");
  auto bad = io::open_frames(t.file("bad"));
  expect_error([&] { bad->next(f); }, {"x.jpg"});
}

TEST(VideoIo, TheWriterRefusesFramesOfAnotherSize) {
  TempDir t;
  io::VideoWriter w(t.file("a.avi"), 64, 48, 25);
  expect_error([&] { w.write(io::Image(32, 32)); }, {"a frame of 32x32"});
  const std::string nowhere = (t.path() / "no" / "such" / "a.avi").string();
  expect_error([&] { io::VideoWriter(nowhere, 64, 48, 25); },
               {"cannot create video", nowhere, "No such file"});
}

}  // namespace semifer::test
