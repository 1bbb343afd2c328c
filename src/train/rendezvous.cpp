// How the ranks of a data-parallel job meet and watch each other: the
// rendezvous store (semifer's own, rank 0 serving it, or torchrun's agent's),
// each start's keys apart, the Gloo or NCCL backends, the heartbeats, and
// naming a lost rank when a collective fails. The collectives themselves
// are distributed.cpp's.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>

#include "group_impl.h"
#include "semifer/util/device.h"
#include "semifer/util/strings.h"

namespace semifer::train {

namespace {

// Heartbeats every half second; a rank whose counter does not move for
// kLostAfter is lost.
constexpr Millis kBeatEvery{500};
constexpr Millis kLostAfter{2500};

bool loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

// The address this machine reaches `master` from: 127.0.0.1 for a
// loopback master; else the source address of the route to it (a UDP
// socket "connected" to it: no packet is sent). Gloo binds there and tells
// the other ranks, so a host name that resolves to 127.0.1.1 (Debian's
// default /etc/hosts) or to another network's address does not matter.
// Falls back to the host name's address (Gloo's default) where the route
// cannot be found.
std::string gloo_host(const std::string& master) {
  if (loopback(master)) return "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  std::string out;
  if (getaddrinfo(master.c_str(), "9", &hints, &found) == 0) {
    for (addrinfo* a = found; a && out.empty(); a = a->ai_next) {
      const int fd = socket(a->ai_family, SOCK_DGRAM, 0);
      if (fd < 0) continue;
      sockaddr_storage local{};
      socklen_t len = sizeof(local);
      char text[INET6_ADDRSTRLEN] = {0};
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
          getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
        const void* ip =
            local.ss_family == AF_INET
                ? static_cast<const void*>(
                      &reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                : static_cast<const void*>(
                      &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
        if (inet_ntop(local.ss_family, ip, text, sizeof(text))) out = text;
      }
      close(fd);
    }
    freeaddrinfo(found);
  }
  if (out.empty()) {
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    out = name;
  }
  return out;
}

std::vector<uint8_t> to_bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

}  // namespace

// Heartbeat n: "<n> <step>".
std::vector<uint8_t> Group::Impl::beat_value(uint64_t n) const {
  return to_bytes(str(n, " ", step.load()));
}

// A connection of its own to the rendezvous store: a client's, or with
// `joining`, the rendezvous's own (rank 0 of semifer's store serves it, and
// every rank counts itself in; torchrun's agent store is only joined).
c10::intrusive_ptr<c10d::Store> Group::Impl::connect(Millis timeout_ms,
                                                     bool joining) const {
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(env.master_port);
  o.isServer = joining && !env.agent_store && env.rank == 0;
  if (joining && !env.agent_store)
    o.numWorkers = static_cast<size_t>(env.world_size);
  o.waitWorkers = joining && !env.agent_store;
  o.timeout = timeout_ms;
  return attempt_store(c10::make_intrusive<c10d::TCPStore>(env.master_addr, o));
}

// This start's keys: torchrun's agent keeps each start's under
// "/worker/attempt_<restart count>"; semifer's own store does the same
// under "semifer/attempt_<n>", so that a rank restarted on one machine
// never reads what the previous start's ranks wrote on another.
c10::intrusive_ptr<c10d::Store> Group::Impl::attempt_store(
    c10::intrusive_ptr<c10d::Store> s) const {
  return c10::make_intrusive<c10d::PrefixStore>(
      str(env.agent_store ? "/worker/attempt_" : "semifer/attempt_",
          env.restart_count),
      std::move(s));
}

// Opens the store (`*have_store` once it is) and the backends, and
// writes this rank's first heartbeat; throws what c10d throws.
void Group::Impl::rendezvous(DistBackend kind, Millis store_timeout,
                             bool* have_store) {
  store = connect(store_timeout, /*joining=*/true);
  *have_store = true;
  address = env.socket_ifname.empty() ? gloo_host(env.master_addr)
                                      : env.socket_ifname;
  auto gloo = [&](const std::string& prefix) -> c10::intrusive_ptr<Backend> {
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    if (!env.socket_ifname.empty()) {
      o->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForInterface(env.socket_ifname));
    } else {
      o->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForHostname(address));
    }
    return c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>(prefix, store), env.rank,
        env.world_size, o);
  };
  if (kind == DistBackend::kNccl) {
#ifdef SEMIFER_HAS_NCCL
    SEMIFER_CHECK(device.is_cuda(),
                  "train.distributed.backend nccl needs a CUDA device, the "
                  "run trains on ",
                  device.str());
    // A lost rank is found by NCCL's watchdog, which ends the process only
    // where its error handling is on (the default of recent LibTorch; 3:
    // tear the process down). A user's own setting, under either name,
    // stays (setenv does not overwrite).
    if (!std::getenv("NCCL_ASYNC_ERROR_HANDLING"))
      ::setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "3", /*overwrite=*/0);
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    main = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        c10::make_intrusive<c10d::PrefixStore>("semifer/nccl", store), env.rank,
        env.world_size, o);
    backend_name = "nccl";
    control = gloo("semifer/control");
#endif
  } else {
    main = gloo("semifer/gloo");
    control = main;
    backend_name = "gloo";
  }
  // The first heartbeat before join returns: a rank that has joined is in
  // the store however late its heartbeat thread gets to run.
  store->set(beat_key(env.rank), beat_value(0));
}

void Group::Impl::beat_loop() {
  c10::intrusive_ptr<c10d::Store> s;
  try {
    s = connect(timeout);
  } catch (const std::exception&) {
    return;
  }
  uint64_t n = 1;  // join() wrote beat 0
  std::unique_lock<std::mutex> lock(beat_mutex);
  while (!stopping) {
    try {
      s->set(beat_key(env.rank), beat_value(n++));
    } catch (const std::exception&) {
      return;  // the store is gone: the next collective reports it
    }
    beat_cv.wait_for(lock, kBeatEvery, [&] { return stopping; });
  }
}

// Each rank's "<counter> <step>", or nullopt where it cannot be read.
std::vector<std::optional<std::pair<uint64_t, int64_t>>> Group::Impl::beats(
    c10d::Store& s) const {
  std::vector<std::optional<std::pair<uint64_t, int64_t>>> out(
      static_cast<size_t>(env.world_size));
  for (int r = 0; r < env.world_size; ++r) {
    try {
      if (!s.check({beat_key(r)})) continue;
      const auto v = s.get(beat_key(r));
      const std::string text(v.begin(), v.end());
      const auto sp = text.find(' ');
      out[r] = std::make_pair(std::stoull(text.substr(0, sp)),
                              std::stoll(text.substr(sp + 1)));
    } catch (const std::exception&) {
    }
  }
  return out;
}

// The ranks that look lost: no heartbeat over kLostAfter, or behind.
std::string Group::Impl::diagnose() const {
  c10::intrusive_ptr<c10d::Store> s;
  try {
    s = connect(Millis(2000));
  } catch (const std::exception&) {
    return env.agent_store
               ? str("torchrun's store at ", env.master_addr, ":",
                     env.master_port, " is unreachable")
               : str("rank 0 is lost (the rendezvous store it serves at ",
                     env.master_addr, ":", env.master_port, " is unreachable)");
  }
  const auto first = beats(*s);
  std::this_thread::sleep_for(kLostAfter);
  std::vector<std::optional<std::pair<uint64_t, int64_t>>> second;
  try {
    second = beats(*s);
  } catch (const std::exception&) {
    second.assign(first.size(), std::nullopt);
  }
  std::vector<std::string> lost;
  const int64_t mine = step.load();
  for (int r = 0; r < env.world_size; ++r) {
    if (r == env.rank) continue;
    const auto& a = first[r];
    const auto& b = second[r];
    if (!b || (a && a->first == b->first)) {
      lost.push_back(str("rank ", r, " (no heartbeat for ",
                         kLostAfter.count() / 1000.0, " s",
                         b ? str("; last at step ", b->second) : "", ")"));
    } else if (b->second < mine) {
      lost.push_back(str("rank ", r, " (alive but at step ", b->second,
                         ", this rank at ", mine, ": hung or slow)"));
    }
  }
  if (lost.empty()) return "no other rank looks lost";
  std::string names;
  for (const auto& l : lost) names += (names.empty() ? "" : ", ") + l;
  return names + (lost.size() == 1 ? " is lost" : " are lost");
}

Group::Group(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Group::~Group() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->beat_mutex);
    impl_->stopping = true;
  }
  impl_->beat_cv.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
  // NCCL's communicators end here rather than in its destructor (which
  // warns that the process group was not destroyed): flushed after a clean
  // run; aborted after a failure or while an error unwinds, where flushing
  // could wait on a lost rank's kernels.
  if (impl_->main && impl_->main != impl_->control) {
    const bool clean = !impl_->failed && std::uncaught_exceptions() == 0;
    try {
      compat::end_backend(*impl_->main, clean);
    } catch (const std::exception&) {
      // Ending is best effort: the process is about to exit either way.
    }
  }
}

std::shared_ptr<Group> Group::join(const LaunchEnv& env,
                                   const DistributedConfig& config,
                                   const c10::Device& device) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->config = config;
  impl->device = device;
  impl->timeout = Millis(static_cast<int64_t>(config.timeout_s * 1000.0));
  const std::string where = str(env.master_addr, ":", env.master_port);

  // The backend.
  DistBackend kind = config.backend;
  if (kind == DistBackend::kAuto)
    kind = device.is_cuda() ? DistBackend::kNccl : DistBackend::kGloo;
#ifndef SEMIFER_HAS_NCCL
  if (kind == DistBackend::kNccl) {
    SEMIFER_CHECK(config.backend == DistBackend::kAuto,
                  "train.distributed.backend nccl: this build of semifer has "
                  "no NCCL (LibTorch ",
                  compat::torch_version(),
                  " without it, or its nccl.h not found when semifer was "
                  "built); use gloo");
    kind = DistBackend::kGloo;
  }
#endif
  // Each rank's own GPU before any CUDA work of c10d's (NCCL's
  // communicator, Gloo's staging), as torch.cuda.set_device does in
  // Python: otherwise every rank also opens a context on GPU 0.
  if (device.is_cuda() && device.has_index())
    util::set_cuda_device(device.index());
  // A restarted start (TORCHELASTIC_RESTART_COUNT > 0) may meet the
  // previous start's ranks still winding down on other machines: a store
  // they still serve, which goes away under this rank. It tries again until
  // the timeout; a first start fails at once.
  const auto deadline = std::chrono::steady_clock::now() + impl->timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(
        deadline - std::chrono::steady_clock::now());
    bool have_store = false;
    try {
      impl->rendezvous(kind, std::max(left, Millis(1000)), &have_store);
      break;
    } catch (const semifer::Error&) {
      throw;
    } catch (const std::exception& e) {
      if (env.restart_count > 0 && left > Millis(1000)) {
        std::this_thread::sleep_for(Millis(500));
        continue;
      }
      if (!have_store && env.rank == 0 && !env.agent_store)
        fail("rendezvous: rank 0 cannot serve the store at ", where,
             " (is MASTER_PORT in use, or MASTER_ADDR not this host?): ",
             error_line(e));
      if (!have_store)
        fail("rendezvous: rank ", env.rank, " cannot reach the store at ",
             where, " within ", config.timeout_s, " s (is rank 0 running, ",
             "and MASTER_ADDR reachable?): ", error_line(e));
      fail("rendezvous: rank ", env.rank, " of ", env.world_size,
           " could not connect to the other ranks within ", config.timeout_s,
           " s (", where, "): ", error_line(e));
    }
  }
  auto group = std::shared_ptr<Group>(new Group(std::move(impl)));
  Impl* raw = group->impl_.get();
  raw->heartbeat = std::thread([raw] { raw->beat_loop(); });
  return group;
}

std::shared_ptr<Group> join_training_job(const LaunchEnv& env,
                                         TrainConfig& config) {
  std::string& name = config.train.device;
  const std::string resolved = util::resolve_device(name);
  if (resolved.rfind("cuda", 0) == 0 && (name == "auto" || name == "cuda")) {
    const auto gpus = static_cast<int>(torch::cuda::device_count());
    SEMIFER_CHECK(env.local_rank < gpus, "LOCAL_RANK ", env.local_rank,
                  " has no GPU of its own: this machine has ", gpus,
                  " CUDA device", gpus == 1 ? "" : "s",
                  " (one rank per GPU: start fewer ranks per machine, or "
                  "train on the CPU with train.device cpu)");
    name = str("cuda:", env.local_rank);
  }
  const c10::Device device(util::resolve_device(name));
  return Group::join(env, config.train.distributed, device);
}

}  // namespace semifer::train
