#pragma once

// Group's state, shared by the files of train::Group: rendezvous.cpp (how
// the ranks meet), gloo_address.cpp (where Gloo binds), heartbeat.cpp (the
// heartbeats, naming a lost rank) and distributed.cpp (the collectives).
// c10d's headers are heavy: only these include it.

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
// NCCL where LibTorch has it (USE_C10D_NCCL, a CUDA LibTorch) and its
// <nccl.h> was found (CMakeLists.txt: the pip wheel keeps it beside torch);
// otherwise CUDA tensors go through Gloo.
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define SEMIFER_HAS_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "semifer/train/distributed.h"
#include "semifer/util/error.h"

// torch_compat.h's c10d part (C10dBackend) is for the files that ask.
#define SEMIFER_WITH_C10D 1
#include "semifer/util/torch_compat.h"

namespace semifer::train {

using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Backend = compat::C10dBackend;

// A store value from text.
inline std::vector<uint8_t> to_bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// A store value as text (waits for the key as Store::get does).
inline std::string text_at(c10d::Store& s, const std::string& key) {
  const std::vector<uint8_t> v = s.get(key);
  return std::string(v.begin(), v.end());
}

struct Group::Impl {
  LaunchEnv env;
  DistributedConfig config;
  c10::Device device{c10::kCPU};
  Millis timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> main;     // the tensors' collectives
  c10::intrusive_ptr<Backend> control;  // CPU: flags, bytes
  std::string backend_name;
  bool failed = false;  // a collective failed (fail_collective)
  std::string address;  // where Gloo binds: an address, or an interface

  // "Gloo at <address>" or "Gloo on interface <name>", for messages.
  std::string gloo_where() const {
    return env.socket_ifname.empty() ? str("Gloo at ", address)
                                     : str("Gloo on interface ", address);
  }

  std::atomic<int64_t> step{0};
  std::thread heartbeat;
  std::mutex beat_mutex;
  std::condition_variable beat_cv;
  bool stopping = false;

  std::string beat_key(int r) const { return str("semifer/beat/", r); }

  // Heartbeat n: "<n> <step>".
  std::vector<uint8_t> beat_value(uint64_t n) const;
  // A connection of its own to the rendezvous store (rendezvous.cpp).
  c10::intrusive_ptr<c10d::Store> connect(Millis timeout_ms,
                                          bool joining = false) const;
  // This start's keys: torchrun's agent keeps each start's under
  // "/worker/attempt_<restart count>"; semifer's own store does the same
  // under "semifer/attempt_<n>", so that a rank restarted on one machine
  // never reads what the previous start's ranks wrote on another.
  c10::intrusive_ptr<c10d::Store> attempt_store(
      c10::intrusive_ptr<c10d::Store> s) const;
  // Where this rank's Gloo binds, an address or GLOO_SOCKET_IFNAME's
  // interface (gloo_address.cpp), waiting up to `wait` for what another
  // machine's ranks say in the store.
  std::string gloo_host(Millis wait) const;
  // Opens the store (`*have_store` once it is) and the backends by
  // `deadline`, and writes this rank's first heartbeat (rendezvous.cpp).
  void rendezvous(DistBackend kind, Clock::time_point deadline,
                  bool* have_store);
  // "rank R of W (Gloo at A)", for messages.
  std::string who() const;
  // Tells the other ranks, through the store, that this one stops.
  void say_failed(const std::string& why) const;
  // The heartbeat thread: this rank's "<n> <step>" every kBeatEvery until
  // `stopping`, through a store connection of its own.
  void beat_loop();
  // Each rank's "<counter> <step>", or nullopt where it cannot be read.
  std::vector<std::optional<std::pair<uint64_t, int64_t>>> beats(
      c10d::Store& s) const;
  // The ranks that look lost: no heartbeat over kLostAfter, or behind.
  std::string diagnose() const;
  // True where collectives over `t` go through NCCL: a CUDA tensor in a
  // run with NCCL (whose Gloo group beside it takes the CPU tensors).
  bool on_nccl(const at::Tensor& t) const {
    return main != control && t.is_cuda();
  }
  // The backend for collectives over `t`.
  Backend& backend_for(const at::Tensor& t) const {
    return on_nccl(t) ? *main : *control;
  }
  // Waits for `work` of backend_for(`t`); a failure ends the run naming
  // the lost rank. Gloo's work is waited for on the host, up to `timeout`;
  // NCCL's only by the current CUDA stream (a host timeout would block the
  // host until the kernels end): its watchdog ends a rank whose collective
  // outlasts the timeout.
  void wait(const char* what, const c10::intrusive_ptr<c10d::Work>& work,
            const at::Tensor& t, Group& self);
};

}  // namespace semifer::train
