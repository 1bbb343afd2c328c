#include "semifer/util/strings.h"

#include <gtest/gtest.h>

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

}  // namespace semifer::util
