#include "backends/launch.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "support/support.h"

namespace semifer::test {

// Ranks here are shell commands (the launcher runs any program), so the
// test can leave a process behind that holds a rank's pipes.
TEST(LaunchRun, ReturnsWhenTheRanksExitThoughAChildOfOneHoldsItsOutput) {
  TempDir t;
  const std::string pid_file = t.file("sleeper.pid");
  launch::LaunchOptions o;
  o.nproc = 2;
  o.program = "/bin/sh";
  o.command = {"-c", "if [ \"$RANK\" = 1 ]; then sleep 60 & echo $! > " +
                         pid_file + "; fi; echo rank $RANK of $WORLD_SIZE"};
  std::ostringstream out, err;
  const auto start = std::chrono::steady_clock::now();
  const int rc = launch::run(o, out, err, [] { return 0; });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  int sleeper = 0;
  std::ifstream(pid_file) >> sleeper;
  if (sleeper > 0) kill(sleeper, SIGKILL);
  EXPECT_EQ(rc, 0) << err.str();
  // Before the fix the launcher waited for the sleeper's 60 s.
  EXPECT_LT(seconds, 30) << "the launcher waited for the rank's child";
  ASSERT_GT(sleeper, 0);
  EXPECT_NE(out.str().find("[rank 0] rank 0 of 2"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("[rank 1] rank 1 of 2"), std::string::npos)
      << out.str();
}

TEST(LaunchRun, ARankThatClosesItsOutputEarlyIsStillWaitedFor) {
  TempDir t;
  launch::LaunchOptions o;
  o.nproc = 1;
  o.program = "/bin/sh";
  o.command = {"-c", "exec >&- 2>&-; sleep 1; exit 3"};
  std::ostringstream out, err;
  EXPECT_EQ(launch::run(o, out, err, [] { return 0; }), 3);
  EXPECT_NE(err.str().find("rank 0"), std::string::npos) << err.str();
}

}  // namespace semifer::test
