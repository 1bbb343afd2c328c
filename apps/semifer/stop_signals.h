// SIGINT and SIGTERM as a request to stop: the commands that train finish
// their step, write a checkpoint and exit with 128 + the signal.
#pragma once

#include <csignal>

namespace semifer::app {

/// The signal that asked to stop (0: none yet).
int stop_signal();
/// "SIGTERM" or "SIGINT", for the message after a stop.
const char* stop_signal_name();

/// Installs the handlers for its lifetime: the first SIGINT or SIGTERM is
/// recorded (stop_signal()), a second one ends the process at once.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

}  // namespace semifer::app
