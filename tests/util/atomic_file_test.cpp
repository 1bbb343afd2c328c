#include "semifer/util/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

// Files in `dir` other than `keep`.
std::vector<std::string> others(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != keep) out.push_back(e.path().filename());
  }
  return out;
}

}  // namespace

TEST(AtomicFile, ReplacesTheTargetOnlyOnCommit) {
  TempDir t;
  const std::string path = write_text_file(t.file("a.txt"), "old");
  {
    util::AtomicFile f(path);
    f.write("new!", 4);
    EXPECT_EQ(util::read_lines(path).front(), "old");
    f.commit();
  }
  EXPECT_EQ(util::read_lines(path).front(), "new!");
  {
    util::AtomicFile f(path);
    f.write("lost", 4);
    // Destroyed without commit: the target keeps its content, no temp file.
  }
  EXPECT_EQ(util::read_lines(path).front(), "new!");
  EXPECT_TRUE(others(t.path(), "a.txt").empty());
}

TEST(AtomicFile, AFailedWriteIsOneLineAndLeavesNothing) {
  TempDir t;
  const std::string path = write_text_file(t.file("big.bin"), "old");
  // A file size limit fails writes past it as a full disk would (EFBIG with
  // SIGXFSZ ignored), in this process only.
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 64 * 1024;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::vector<char> chunk(256 * 1024, 'x');
  expect_error(
      [&] {
        util::AtomicFile f(path);
        f.write(chunk.data(), chunk.size());
        f.commit();
      },
      {"cannot write ", path, "nothing was replaced"});
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(util::read_lines(path).front(), "old");
  EXPECT_TRUE(others(t.path(), "big.bin").empty());
}

TEST(AtomicFile, TwoWritersOfOnePathEachWriteTheirOwnFile) {
  TempDir t;
  const std::string path = t.file("a.txt");
  {
    util::AtomicFile first(path);
    util::AtomicFile second(path);
    first.write("first", 5);
    second.write("second!", 7);
    first.commit();
    EXPECT_EQ(util::read_lines(path).front(), "first");
    second.commit();
  }
  EXPECT_EQ(util::read_lines(path).front(), "second!");
  EXPECT_TRUE(others(t.path(), "a.txt").empty());
}

TEST(AtomicFile, AFileAtTheTemporaryNameIsNeitherFollowedNorReused) {
  TempDir t;
  const std::string path = t.file("a.txt");
  const std::string victim = write_text_file(t.file("victim.txt"), "keep");
  // What a crashed process of the same pid, or someone else, left there.
  const std::string taken = path + ".tmp." + std::to_string(::getpid());
  fs::create_symlink(victim, taken);
  util::write_file_atomically(path, "new");
  EXPECT_EQ(util::read_lines(path).front(), "new");
  EXPECT_EQ(util::read_lines(victim).front(), "keep");
  EXPECT_TRUE(fs::is_symlink(taken));
}

TEST(AtomicFile, AMissingFolderIsAnError) {
  TempDir t;
  expect_error([&] { util::AtomicFile f(t.file("none") + "/x/y.txt"); },
               {"cannot write", "y.txt"});
}

}  // namespace semifer::test
