// start_threads (issue 16, item 2): a refused thread is an error naming what
// was started, never std::terminate or a deadlock.
#include "semifer/util/threads.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "semifer/util/error.h"

namespace semifer::util {

namespace {

// The process's virtual memory size in bytes (/proc/self/statm).
size_t virtual_size() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  statm >> pages;
  return pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST(StartThreads, StartsAllAndJoinsThem) {
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  start_threads(
      threads, 8, [&] { ++ran; }, "test threads", [] {});
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran.load(), 8);
}

TEST(StartThreads, ARefusedThreadIsAnErrorNotATerminate) {
#ifdef __SANITIZE_ADDRESS__
  // ASan maps each thread's fake stack itself and aborts when the limit
  // refuses it, before pthread_create could fail: nothing of ours to see.
  GTEST_SKIP() << "an address-space limit stops AddressSanitizer itself";
#endif
  // In a child: an address-space limit 200 MB above what it uses refuses
  // the 8 MB stacks of 1000 threads, as a process limit does on a user's
  // machine (RLIMIT_NPROC does not bind root, who runs CI).
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit limit;
    limit.rlim_cur = limit.rlim_max = virtual_size() + (200u << 20);
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(3);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    try {
      start_threads(
          threads, 1000,
          [&] {
            while (!stop.load())
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
          },
          "loader threads", [&] { stop = true; });
    } catch (const Error& e) {
      const std::string m = e.what();
      const bool ok = m.find("cannot start 1000 loader threads (started ") !=
                          std::string::npos &&
                      m.find("ask for fewer") != std::string::npos &&
                      threads.empty();
      ::_exit(ok ? 0 : 4);
    }
    ::_exit(5);  // every thread started: the limit did not bind
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status))
      << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace semifer::util
