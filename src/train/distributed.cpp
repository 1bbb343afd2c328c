#include "semifer/train/distributed.h"

#include <torch/torch.h>

#define SEMIFER_WITH_C10D 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "semifer/util/torch_compat.h"
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"
#include "semifer/util/strings.h"

namespace semifer::train {

namespace {

using Millis = std::chrono::milliseconds;
using Backend = compat::C10dBackend;

// Heartbeats every half second; a rank whose counter does not move for
// kLostAfter is lost.
constexpr Millis kBeatEvery{500};
constexpr Millis kLostAfter{2500};

bool loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

std::vector<uint8_t> to_bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Groups tensors by dtype and device into flat buffers so that one
// collective covers many small tensors; scatter() copies results back.
struct Flat {
  std::vector<at::Tensor> buffers;
  std::vector<std::vector<size_t>> members;

  explicit Flat(const std::vector<at::Tensor>& tensors) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      size_t g = 0;
      for (; g < members.size(); ++g) {
        const auto& first = tensors[members[g][0]];
        if (first.scalar_type() == tensors[i].scalar_type() &&
            first.device() == tensors[i].device())
          break;
      }
      if (g == members.size()) members.emplace_back();
      members[g].push_back(i);
    }
    for (const auto& m : members) {
      std::vector<at::Tensor> parts;
      for (size_t i : m) parts.push_back(tensors[i].reshape({-1}));
      buffers.push_back(torch::cat(parts));
    }
  }

  void scatter(std::vector<at::Tensor>& tensors) const {
    torch::NoGradGuard no_grad;
    for (size_t g = 0; g < members.size(); ++g) {
      int64_t offset = 0;
      for (size_t i : members[g]) {
        auto& t = tensors[i];
        const int64_t n = t.numel();
        t.copy_(buffers[g].narrow(0, offset, n).view(t.sizes()));
        offset += n;
      }
    }
  }
};

}  // namespace

// ---------------------------------------------------------------- Group

struct Group::Impl {
  LaunchEnv env;
  DistributedConfig config;
  c10::Device device{c10::kCPU};
  Millis timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> main;     // the tensors' collectives
  c10::intrusive_ptr<Backend> control;  // CPU: flags, bytes
  std::string backend_name;

  std::atomic<int64_t> step{0};
  std::thread heartbeat;
  std::mutex beat_mutex;
  std::condition_variable beat_cv;
  bool stopping = false;

  std::string beat_key(int r) const { return str("semifer/beat/", r); }
  // Heartbeat n: "<n> <step>".
  std::vector<uint8_t> beat_value(uint64_t n) const {
    return to_bytes(str(n, " ", step.load()));
  }

  // A client connection of its own to the rendezvous store.
  c10::intrusive_ptr<c10d::Store> connect(Millis timeout_ms) const {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(env.master_port);
    o.isServer = false;
    o.waitWorkers = false;
    o.timeout = timeout_ms;
    return attempt_store(
        c10::make_intrusive<c10d::TCPStore>(env.master_addr, o));
  }

  // This start's keys: torchrun's agent keeps each start's under
  // "/worker/attempt_<restart count>"; semifer's own store does the same
  // under "semifer/attempt_<n>", so that a rank restarted on one machine
  // never reads what the previous start's ranks wrote on another.
  c10::intrusive_ptr<c10d::Store> attempt_store(
      c10::intrusive_ptr<c10d::Store> s) const {
    return c10::make_intrusive<c10d::PrefixStore>(
        str(env.agent_store ? "/worker/attempt_" : "semifer/attempt_",
            env.restart_count),
        std::move(s));
  }

  // Opens the store (`*have_store` once it is) and the backends, and
  // writes this rank's first heartbeat; throws what c10d throws.
  void rendezvous(DistBackend kind, Millis store_timeout, bool* have_store) {
    if (env.agent_store) {
      store = connect(store_timeout);
    } else {
      c10d::TCPStoreOptions o;
      o.port = static_cast<uint16_t>(env.master_port);
      o.isServer = env.rank == 0;
      o.numWorkers = static_cast<size_t>(env.world_size);
      o.waitWorkers = true;
      o.timeout = store_timeout;
      store = attempt_store(
          c10::make_intrusive<c10d::TCPStore>(env.master_addr, o));
    }
    *have_store = true;
    auto gloo = [&](const std::string& prefix) -> c10::intrusive_ptr<Backend> {
      auto o = c10d::ProcessGroupGloo::Options::create(timeout);
      if (!env.socket_ifname.empty()) {
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(
            env.socket_ifname));
      } else if (loopback(env.master_addr)) {
        o->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      return c10::make_intrusive<c10d::ProcessGroupGloo>(
          c10::make_intrusive<c10d::PrefixStore>(prefix, store), env.rank,
          env.world_size, o);
    };
    if (kind == DistBackend::kNccl) {
#ifdef USE_C10D_NCCL
      SEMIFER_CHECK(device.is_cuda(),
                    "train.distributed.backend nccl needs a CUDA device, the "
                    "run trains on ",
                    device.str());
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      main = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          c10::make_intrusive<c10d::PrefixStore>("semifer/nccl", store),
          env.rank, env.world_size, o);
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

  void beat_loop() {
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
  std::vector<std::optional<std::pair<uint64_t, int64_t>>> beats(
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
  std::string diagnose() const {
    c10::intrusive_ptr<c10d::Store> s;
    try {
      s = connect(Millis(2000));
    } catch (const std::exception&) {
      return env.agent_store
                 ? str("torchrun's store at ", env.master_addr, ":",
                       env.master_port, " is unreachable")
                 : str("rank 0 is lost (the rendezvous store it serves at ",
                       env.master_addr, ":", env.master_port,
                       " is unreachable)");
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

  void wait(const char* what, const c10::intrusive_ptr<c10d::Work>& work,
            Group& self) {
    try {
      work->wait(timeout);
    } catch (const std::exception& e) {
      self.fail_collective(what, error_line(e));
    }
  }
};

Group::Group(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Group::~Group() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->beat_mutex);
    impl_->stopping = true;
  }
  impl_->beat_cv.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
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
#ifndef USE_C10D_NCCL
  if (kind == DistBackend::kNccl) {
    SEMIFER_CHECK(config.backend == DistBackend::kAuto,
                  "train.distributed.backend nccl: this LibTorch (",
                  compat::torch_version(),
                  ") was built without NCCL; use gloo");
    kind = DistBackend::kGloo;
  }
#endif
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
  if (resolved.rfind("cuda", 0) == 0 && (name == "auto" || name == "cuda"))
    name = str("cuda:", env.local_rank);
  const c10::Device device(util::resolve_device(name));
  return Group::join(env, config.train.distributed, device);
}

int Group::rank() const { return impl_->env.rank; }
int Group::size() const { return impl_->env.world_size; }
const LaunchEnv& Group::env() const { return impl_->env; }
std::string Group::backend() const { return impl_->backend_name; }

void Group::set_step(int64_t step) { impl_->step.store(step); }

void Group::fail_collective(const std::string& what, const std::string& error) {
  fail("distributed: ", what, " failed on rank ", impl_->env.rank, " of ",
       impl_->env.world_size, ": ", impl_->diagnose(), " (", error, ")");
}

namespace {

template <typename Launch>
void flat_collective(Group& g, Group::Impl& impl, const char* what,
                     std::vector<at::Tensor>& tensors, Launch launch) {
  if (tensors.empty()) return;
  Flat flat(tensors);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    for (auto& buffer : flat.buffers) {
      std::vector<at::Tensor> one = {buffer};
      works.push_back(launch(one));
    }
  } catch (const std::exception& e) {
    g.fail_collective(what, error_line(e));
  }
  for (auto& w : works) impl.wait(what, w, g);
  flat.scatter(tensors);
}

c10d::AllreduceOptions reduce_with(c10d::ReduceOp op) {
  c10d::AllreduceOptions o;
  o.reduceOp = op;
  return o;
}

void all_reduce(Group& g, Group::Impl& impl, std::vector<at::Tensor>& tensors,
                c10d::ReduceOp op) {
  flat_collective(g, impl, "all-reduce", tensors,
                  [&](std::vector<at::Tensor>& t) {
                    return impl.main->allreduce(t, reduce_with(op));
                  });
}

}  // namespace

void Group::all_reduce_sum(std::vector<at::Tensor>& tensors) {
  all_reduce(*this, *impl_, tensors, c10d::ReduceOp::SUM);
}

void Group::all_reduce_max(std::vector<at::Tensor>& tensors) {
  all_reduce(*this, *impl_, tensors, c10d::ReduceOp::MAX);
}

void Group::broadcast(std::vector<at::Tensor>& tensors, int root) {
  flat_collective(*this, *impl_, "broadcast", tensors,
                  [&](std::vector<at::Tensor>& t) {
                    c10d::BroadcastOptions o;
                    o.rootRank = root;
                    return impl_->main->broadcast(t, o);
                  });
}

at::Tensor Group::all_gather(const at::Tensor& tensor) {
  std::vector<at::Tensor> input = {tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < size(); ++r)
    output[0].push_back(torch::empty_like(input[0]));
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->main->allgather(output, input);
  } catch (const std::exception& e) {
    fail_collective("all-gather", error_line(e));
  }
  impl_->wait("all-gather", work, *this);
  return torch::cat(output[0], 0);
}

bool Group::any(bool flag) {
  std::vector<at::Tensor> t = {torch::full({1}, flag ? 1 : 0, torch::kInt32)};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->control->allreduce(t, reduce_with(c10d::ReduceOp::MAX));
  } catch (const std::exception& e) {
    fail_collective("all-reduce", error_line(e));
  }
  impl_->wait("all-reduce", work, *this);
  return t[0].item<int>() != 0;
}

std::string Group::broadcast_bytes(const std::string& bytes, int root) {
  auto run = [&](at::Tensor t) {
    std::vector<at::Tensor> v = {t};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      work = impl_->control->broadcast(v, o);
    } catch (const std::exception& e) {
      fail_collective("broadcast", error_line(e));
    }
    impl_->wait("broadcast", work, *this);
  };
  at::Tensor n =
      torch::full({1}, static_cast<int64_t>(bytes.size()), torch::kInt64);
  run(n);
  at::Tensor data = torch::empty({n.item<int64_t>()}, torch::kUInt8);
  if (rank() == root && !bytes.empty())
    std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  if (data.numel() > 0) run(data);
  return std::string(reinterpret_cast<const char*>(data.data_ptr<uint8_t>()),
                     static_cast<size_t>(data.numel()));
}

struct Group::Pending::Impl {
  Group* group = nullptr;
  c10::intrusive_ptr<c10d::Work> work;
};

Group::Pending::Pending() = default;
Group::Pending::~Pending() = default;
Group::Pending::Pending(Pending&&) noexcept = default;
Group::Pending& Group::Pending::operator=(Pending&&) noexcept = default;

void Group::Pending::wait() {
  if (!impl_ || !impl_->work) return;
  auto work = std::move(impl_->work);
  impl_->group->impl_->wait("all-reduce", work, *impl_->group);
}

Group::Pending Group::all_reduce_sum_async(at::Tensor& tensor) {
  Pending p;
  p.impl_ = std::make_unique<Pending::Impl>();
  p.impl_->group = this;
  std::vector<at::Tensor> t = {tensor};
  try {
    p.impl_->work = impl_->main->allreduce(t, reduce_with(c10d::ReduceOp::SUM));
  } catch (const std::exception& e) {
    fail_collective("all-reduce", error_line(e));
  }
  return p;
}

}  // namespace semifer::train
