#include "semifer/util/threads.h"

#include <system_error>

#include "semifer/util/error.h"

namespace semifer::util {

void start_threads(std::vector<std::thread>& threads, int n,
                   const std::function<void()>& work, const std::string& what,
                   const std::function<void()>& stop) {
  const size_t before = threads.size();
  threads.reserve(before + static_cast<size_t>(n > 0 ? n : 0));
  for (int t = 0; t < n; ++t) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error& e) {
      // A joinable std::thread destroyed unjoined calls std::terminate: stop
      // and join the ones that did start before reporting.
      const size_t started = threads.size() - before;
      stop();
      for (auto& th : threads) {
        if (th.joinable()) th.join();
      }
      threads.clear();
      fail("cannot start ", n, " ", what, " (started ", started,
           "): ", e.code().message(), "; ask for fewer");
    }
  }
}

}  // namespace semifer::util
