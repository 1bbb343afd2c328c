#include "stop_signals.h"

namespace semifer::app {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop_signal = sig;
}

}  // namespace

int stop_signal() { return g_stop_signal; }

const char* stop_signal_name() {
  return g_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

StopSignals::StopSignals() {
  g_stop_signal = 0;
  old_int_ = std::signal(SIGINT, on_stop_signal);
  old_term_ = std::signal(SIGTERM, on_stop_signal);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

}  // namespace semifer::app
