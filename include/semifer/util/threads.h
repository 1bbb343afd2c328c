#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace semifer::util {

/// Starts `n` threads that each run `work`, appended to `threads`. When the
/// system refuses one (a process or memory limit: std::system_error), calls
/// `stop` (which must make the running `work`s return), joins every thread
/// started and throws semifer::Error naming `what` and how many started
/// ("cannot start 1000 loader threads (started 93): Resource temporarily
/// unavailable; ask for fewer"), instead of std::terminate.
void start_threads(std::vector<std::thread>& threads, int n,
                   const std::function<void()>& work, const std::string& what,
                   const std::function<void()>& stop);

}  // namespace semifer::util
