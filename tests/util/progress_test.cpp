#include "semifer/util/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace semifer::util {

TEST(ProgressBar, RendersCountsRateAndEta) {
  const std::string s =
      ProgressBar::render("train", 250, 1000, 50.0, "L 0.41", 10);
  EXPECT_EQ(s,
            "train [##........]  25% 250/1000 | 50.00 it/s | ETA 0:00:15 | "
            "L 0.41");
  EXPECT_NE(ProgressBar::render("", 0, 10, 0, "").find("ETA ?"),
            std::string::npos);
  EXPECT_EQ(ProgressBar::format_duration(3725), "1:02:05");
}

TEST(ProgressBar, DrawsInPlaceOnlyOnATerminal) {
  std::ostringstream log;
  {
    ProgressBar bar("x", 4, log, /*interactive=*/false);
    bar.update(2);
    bar.message("epoch 1 done");
    bar.finish();
  }
  EXPECT_EQ(log.str(), "epoch 1 done\n");  // a log file gets no bar

  std::ostringstream tty;
  {
    ProgressBar bar("x", 4, tty, /*interactive=*/true);
    bar.update(1);
    bar.message("line");
    bar.update(4);
    bar.finish();
  }
  const std::string s = tty.str();
  EXPECT_NE(s.find("\r\033[K"), std::string::npos);
  EXPECT_NE(s.find("line\n"), std::string::npos);
  EXPECT_NE(s.find("100% 4/4"), std::string::npos);
  EXPECT_EQ(s.back(), '\n');
}

}  // namespace semifer::util
