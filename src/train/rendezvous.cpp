// How the ranks of a data-parallel job meet: the rendezvous store
// (semifer's own, rank 0 serving it, or torchrun's agent's), each start's
// keys apart, the Gloo or NCCL backends, and the end of the group. Where
// Gloo binds is gloo_address.cpp's; the heartbeats and naming a lost rank
// heartbeat.cpp's; the collectives distributed.cpp's.
#include <torch/torch.h>

#include <cstdlib>
#include <exception>
#include <future>

#include "group_impl.h"
#include "semifer/util/device.h"
#include "semifer/util/strings.h"

namespace semifer::train {

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

namespace {

// The backends, built on a thread of their own (Gloo's connection of the
// ranks cannot be interrupted) that the rendezvous may leave behind.
struct Backends {
  c10::intrusive_ptr<Backend> main, control;
  std::string name;
};

// Where a rank whose backends failed to connect says why, for the others.
constexpr const char* kFailedKey = "semifer/rendezvous_failed";
constexpr Millis kWatchEvery{250};
constexpr Millis kConnectAtLeast{5000};
constexpr const char* kReachHint =
    " (every machine must reach the others' Gloo addresses: where the "
    "address is not on the network they share, set GLOO_SOCKET_IFNAME to "
    "its interface)";

// The backends of `kind`: NCCL (lazy: its communicators start at the
// first collective) with a Gloo group beside it, or Gloo alone. Gloo
// connects every pair of ranks here.
Backends build_backends(const LaunchEnv& env, const c10::Device& device,
                        Millis timeout, const std::string& address,
                        DistBackend kind,
                        const c10::intrusive_ptr<c10d::Store>& store) {
  Backends out;
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
    // The current device is per thread: this one's is the rank's GPU too.
    if (device.has_index()) util::set_cuda_device(device.index());
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    out.main = c10::make_intrusive<c10d::ProcessGroupNCCL>(
        c10::make_intrusive<c10d::PrefixStore>("semifer/nccl", store), env.rank,
        env.world_size, o);
    out.name = "nccl";
    out.control = gloo("semifer/control");
#endif
  } else {
    out.main = gloo("semifer/gloo");
    out.control = out.main;
    out.name = "gloo";
  }
  return out;
}

}  // namespace

// Opens the store (`*have_store` once it is) and the backends, and
// writes this rank's first heartbeat, by `deadline` (at least a few
// seconds for the backends); throws what c10d throws, or semifer::Error
// when another rank failed to connect or the connections outlast the
// deadline. Gloo waits five times its timeout for a peer that never
// connects (a rank stopped, or one whose address this machine cannot
// reach), so the backends are built on a thread of their own while this
// one watches the clock and the store, where a rank that fails says so
// (say_failed); a thread given up on ends by itself when Gloo's own wait
// ends, holding its store connection (rank 0: the store) until then.
void Group::Impl::rendezvous(DistBackend kind, Clock::time_point deadline,
                             bool* have_store) {
  auto left = [&] {
    return std::max(Millis(1000), std::chrono::duration_cast<Millis>(
                                      deadline - Clock::now()));
  };
  store = connect(left(), /*joining=*/true);
  *have_store = true;
  address = gloo_host(left());
#ifdef SEMIFER_HAS_NCCL
  // A lost rank is found by NCCL's watchdog, which ends the process only
  // where its error handling is on (the default of recent LibTorch; 3:
  // tear the process down). A user's own setting, under either name,
  // stays (setenv does not overwrite). Before the builder's thread starts:
  // setenv is not safe beside another thread's getenv.
  if (kind == DistBackend::kNccl && !std::getenv("NCCL_ASYNC_ERROR_HANDLING"))
    ::setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "3", /*overwrite=*/0);
#endif
  // The task's state outlives a thread given up on (detached).
  std::packaged_task<Backends()> task([env = env, device = device,
                                       timeout = timeout, address = address,
                                       kind, s = store] {
    return build_backends(env, device, timeout, address, kind, s);
  });
  std::future<Backends> built = task.get_future();
  std::thread builder(std::move(task));
  auto give_up = [&](const std::string& why) {
    builder.detach();
    fail("rendezvous: ", who(), " could not connect to the other ranks: ", why,
         kReachHint);
  };
  // A few seconds at least: the store's rendezvous may have taken most of
  // the time waiting for late ranks, and connecting takes well under one.
  const auto connect_by = std::max(deadline, Clock::now() + kConnectAtLeast);
  c10::intrusive_ptr<c10d::Store> watch;
  while (built.wait_for(kWatchEvery) != std::future_status::ready) {
    if (Clock::now() >= connect_by) {
      const std::string why = str(
          "the connections did not complete within train.distributed."
          "timeout_s (",
          config.timeout_s,
          " s; a rank stopped, or its address is unreachable from another)");
      say_failed(str(who(), " gave up: ", why));
      give_up(why);
    }
    std::optional<std::string> failed;
    try {
      if (!watch) watch = connect(Millis(2000));
      if (watch->check({kFailedKey})) failed = text_at(*watch, kFailedKey);
    } catch (const std::exception&) {
      // A restarted start may meet a previous start's store that goes
      // away: the builder fails then, and join tries again.
      if (env.rank != 0 && !env.agent_store && env.restart_count == 0)
        failed = "rank 0 is lost (the store it serves is unreachable)";
    }
    if (failed) give_up(*failed);
  }
  builder.join();
  Backends b = built.get();  // throws what the builder threw
  main = b.main;
  control = b.control;
  backend_name = b.name;
  // The first heartbeat before join returns: a rank that has joined is in
  // the store however late its heartbeat thread gets to run.
  store->set(beat_key(env.rank), beat_value(0));
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

std::string Group::Impl::who() const {
  return str("rank ", env.rank, " of ", env.world_size, " (", gloo_where(),
             ")");
}

// Tells the other ranks, through the store, that this one stops; the
// store's server (rank 0) then waits for them to read it before it goes.
void Group::Impl::say_failed(const std::string& why) const {
  try {
    store->set(kFailedKey, to_bytes(why));
    if (env.rank == 0 && !env.agent_store)
      std::this_thread::sleep_for(2 * kWatchEvery);
  } catch (const std::exception&) {
    // Best effort: the others reach their own deadline.
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
  const auto deadline = Clock::now() + impl->timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - Clock::now());
    bool have_store = false;
    try {
      impl->rendezvous(kind, deadline, &have_store);
      break;
    } catch (const semifer::Error&) {
      throw;
    } catch (const std::exception& e) {
      if (env.restart_count > 0 && left > Millis(1000)) {
        std::this_thread::sleep_for(Millis(500));
        continue;
      }
      // The others stop waiting for this rank.
      if (have_store)
        impl->say_failed(str(impl->who(), " failed: ", error_line(e)));
      if (!have_store && env.rank == 0 && !env.agent_store)
        fail("rendezvous: rank 0 cannot serve the store at ", where,
             " (is MASTER_PORT in use, or MASTER_ADDR not this host?): ",
             error_line(e));
      if (!have_store)
        fail("rendezvous: rank ", env.rank, " cannot reach the store at ",
             where, " within ", config.timeout_s, " s (is rank 0 running, ",
             "and MASTER_ADDR reachable?): ", error_line(e));
      fail("rendezvous: ", impl->who(),
           " could not connect to the other ranks (store at ", where,
           "): ", error_line(e), kReachHint);
    }
  }
  auto group = std::shared_ptr<Group>(new Group(std::move(impl)));
  Impl* raw = group->impl_.get();
  raw->heartbeat = std::thread([raw] { raw->beat_loop(); });
  return group;
}

bool nccl_built() {
#ifdef SEMIFER_HAS_NCCL
  return true;
#else
  return false;
#endif
}

std::shared_ptr<Group> join_training_job(const LaunchEnv& env,
                                         TrainConfig& config) {
  std::string& name = config.train.device;
  const std::string resolved = util::resolve_device(name);
  if (resolved.rfind("cuda", 0) == 0 && (name == "auto" || name == "cuda")) {
    const int gpus = util::cuda_device_count();
    SEMIFER_CHECK(env.local_rank < gpus, "LOCAL_RANK ", env.local_rank,
                  " has no GPU of its own: this machine has ",
                  util::counted(gpus, "CUDA device"),
                  " (one rank per GPU: start fewer ranks per machine, or "
                  "train on the CPU with train.device cpu)");
    name = str("cuda:", env.local_rank);
  }
  const c10::Device device(util::resolve_device(name));
  return Group::join(env, config.train.distributed, device);
}

}  // namespace semifer::train
