// walk_files (issue 16, item 8): links to folders followed at most once per
// real folder, so a loop counts an image once and a link to a sibling class
// folder does not relabel its images.
#include "semifer/util/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/support.h"

namespace semifer::util {

namespace fs = std::filesystem;

TEST(WalkFiles, FollowsEachRealFolderOnce) {
  test::TempDir t;
  test::write_text_file(t.file("happy/a.jpg"), "a");
  test::write_text_file(t.file("happy/sub/b.jpg"), "b");
  test::write_text_file(t.file("sad/c.jpg"), "c");
  fs::create_directory_symlink(".", t.file("happy/loop"));
  fs::create_directory_symlink("../sad", t.file("happy/sad_link"));
  fs::create_directory_symlink("sub", t.file("happy/sub_again"));
  ASSERT_EQ(::mkfifo(t.file("happy/pipe.jpg").c_str(), 0600), 0);
  fs::create_symlink("missing", t.file("happy/broken.jpg"));

  const FolderWalk all = walk_files(t.file("happy"));
  // The sibling is reachable through its link when nothing excludes it.
  EXPECT_EQ(all.files.size(), 3u);
  // Excluding the sibling class folder: only happy's own two images.
  const FolderWalk own = walk_files(t.file("happy"), {t.file("sad")});
  ASSERT_EQ(own.files.size(), 2u);
  EXPECT_EQ(fs::path(own.files[0]).filename(), "a.jpg");
  EXPECT_EQ(fs::path(own.files[1]).filename(), "b.jpg");
  EXPECT_EQ(own.repeated_folders.size(), 3u);  // loop, sad_link, sub_again
  EXPECT_EQ(own.others.size(), 2u);            // the FIFO, the broken link
}

TEST(WalkFiles, AFolderThatCannotBeListedIsAnError) {
  test::TempDir t;
  test::expect_error([&] { walk_files(t.file("nothing")); },
                     {"cannot list", "nothing"});
}

}  // namespace semifer::util
