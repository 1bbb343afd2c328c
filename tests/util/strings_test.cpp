#include "semifer/util/strings.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "support/support.h"

namespace semifer::util {

TEST(Strings, TrimAndSplit) {
  EXPECT_EQ(trim("  a b \r"), "a b");
  EXPECT_EQ(trim(""), "");
  auto parts = split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  auto ws = split_ws("  x\t y  z ");
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[2], "z");
}

TEST(Strings, EditDistanceAndClosest) {
  EXPECT_EQ(util::edit_distance("", ""), 0u);
  EXPECT_EQ(util::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(util::edit_distance("trian", "train"), 2u);
  EXPECT_EQ(util::edit_distance("abc", ""), 3u);
  const std::vector<std::string> keys = {"epochs", "lr", "seed"};
  EXPECT_EQ(util::closest("epoch", keys), "epochs");
  EXPECT_EQ(util::closest("sede", keys), "seed");
  EXPECT_EQ(util::closest("momentum", keys), "");
  EXPECT_EQ(util::closest("lr", keys), "lr");
}

TEST(Strings, CountedIsPluralUnlessOne) {
  EXPECT_EQ(util::counted(1, "epoch"), "1 epoch");
  EXPECT_EQ(util::counted(0, "CUDA device"), "0 CUDA devices");
  EXPECT_EQ(util::counted(3, "restart"), "3 restarts");
}

TEST(Strings, CsvQuoting) {
  auto f = split_csv(R"x(a,"(0, 0, 48, 48)","say ""hi""",)x");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[1], "(0, 0, 48, 48)");
  EXPECT_EQ((*f)[2], "say \"hi\"");
  EXPECT_EQ((*f)[3], "");
  EXPECT_FALSE(split_csv("a,\"open"));
}

TEST(Strings, ParseNumbers) {
  EXPECT_EQ(parse_int(" 42 "), 42);
  EXPECT_EQ(parse_int("-1"), -1);
  EXPECT_EQ(parse_int("+7"), 7);
  EXPECT_FALSE(parse_int(""));
  EXPECT_FALSE(parse_int("4x"));
  EXPECT_FALSE(parse_int("1.5"));
  EXPECT_DOUBLE_EQ(*parse_double("0.25"), 0.25);
  EXPECT_FALSE(parse_double("abc"));
}

TEST(Strings, MissingFileNamesThePath) {
  test::expect_error([] { read_lines("/nonexistent/semifer.txt"); },
                     {"/nonexistent/semifer.txt"});
  test::expect_error([] { read_file("/nonexistent/x.bin"); },
                     {"cannot open /nonexistent/x.bin"});
}

TEST(Strings, RemoveTreeRemovesNestedFoldersAndNotLinkTargets) {
  test::TempDir keep;
  const std::string kept = test::write_text_file(keep.file("kept.txt"), "x");
  std::string root;
  {
    test::TempDir t;
    root = t.path().string();
    test::write_text_file(t.file("a/b/c.txt"), "c");
    test::write_text_file(t.file("a/d.txt"), "d");
    std::filesystem::create_directory_symlink(keep.path(), t.file("a/link"));
    EXPECT_TRUE(remove_tree((t.path() / "a").string()));
    // (t.file() would create the folders again.)
    EXPECT_FALSE(std::filesystem::exists(t.path() / "a"));
    EXPECT_TRUE(std::filesystem::exists(t.path()));
  }
  EXPECT_FALSE(std::filesystem::exists(root));  // TempDir uses it too
  EXPECT_TRUE(std::filesystem::exists(kept));   // the link was not followed
  EXPECT_TRUE(remove_tree(root));               // missing: no error
}

// Issue 16, items 10, 11 and 12: what the file helpers refuse, and what
// they write.
TEST(Strings, ReadingRefusesWhatIsNotARegularFileWithoutBlocking) {
  test::TempDir t;
  const std::string fifo = t.file("pipe.jpg");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opening a FIFO without a writer blocked forever.
  test::expect_error([&] { read_file(fifo); },
                     {fifo, "not a regular file (a FIFO)"});
  test::expect_error([&] { read_lines(fifo); }, {fifo, "a FIFO"});
  test::expect_error([&] { read_lines(t.path().string()); }, {"a folder"});
  test::expect_error([&] { read_file("/dev/zero"); }, {"a device"});
}

TEST(Strings, ReadingHasASizeLimitAndDropsAByteOrderMark) {
  test::TempDir t;
  const std::string path =
      test::write_text_file(t.file("a.csv"), "\xEF\xBB\xBFpath,label\r\nx,1");
  EXPECT_EQ(read_lines(path), (std::vector<std::string>{"path,label", "x,1"}));
  test::expect_error([&] { read_file(path, 5); },
                     {path, "18 bytes, more than the limit of 5"});
}

TEST(Strings, ExcerptEscapesAndCuts) {
  EXPECT_EQ(excerpt("plain text"), "plain text");
  EXPECT_EQ(excerpt("\xEF\xBB\xBFname\n"), "\\xef\\xbb\\xbfname\\x0a");
  EXPECT_EQ(excerpt("a\\b\tc"), "a\\\\b\\tc");
  const std::string line(1 << 20, 'z');
  EXPECT_EQ(excerpt(line, 4), "zzzz... (1048576 bytes)");
}

TEST(Strings, ParseDoubleRefusesNonFiniteNumbers) {
  EXPECT_EQ(parse_double("nan"), std::nullopt);
  EXPECT_EQ(parse_double("-inf"), std::nullopt);
  EXPECT_EQ(parse_double("1e400"), std::nullopt);
  EXPECT_EQ(parse_double("2.5"), 2.5);
}

TEST(Strings, WriteFileReplacesALinkInsteadOfWritingThroughIt) {
  test::TempDir t;
  const std::string target = test::write_text_file(t.file("secret"), "keep");
  const std::string link = t.file("out/video.txt");
  std::filesystem::create_symlink(target, link);
  write_text(link, "new");
  EXPECT_EQ(read_lines(target).front(), "keep");
  EXPECT_FALSE(std::filesystem::is_symlink(link));
  EXPECT_EQ(read_lines(link).front(), "new");
}

TEST(Strings, AFailedWriteKeepsThePreviousFile) {
  test::TempDir t;
  const std::string path = test::write_text_file(t.file("p.csv"), "old");
  // A file size limit fails the write as a full disk does (EFBIG).
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string text(64 * 1024, 'x');
  test::expect_error([&] { write_text(path, text); },
                     {"cannot write ", path, "nothing was replaced"});
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(read_lines(path).front(), "old");
}

}  // namespace semifer::util
