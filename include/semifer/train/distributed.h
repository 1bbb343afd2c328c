#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "semifer/train/config.h"

namespace semifer::train {

/// Where this process sits in a data-parallel job, read from the variables
/// torchrun (and `semifer launch`) set: RANK, WORLD_SIZE, LOCAL_RANK,
/// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and TORCHELASTIC_*.
struct LaunchEnv {
  bool present = false;  ///< RANK or WORLD_SIZE is set: run as a rank
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  /// TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent runs the TCPStore,
  /// every rank (0 included) connects to it as a client under the prefix
  /// "/worker/attempt_<restart_count>".
  bool agent_store = false;
  int restart_count = 0;  ///< TORCHELASTIC_RESTART_COUNT: this start's number
  /// TORCHELASTIC_MAX_RESTARTS: how often the launcher starts a failed job
  /// again (0 when unset).
  int max_restarts = 0;
  /// GLOO_SOCKET_IFNAME; empty: Gloo binds Group::gloo_address().
  std::string socket_ifname;
};

/// Reads the job from `get` (the process environment by default: a
/// variable's value, nullopt when unset). Throws semifer::Error in one line
/// naming the variable on a bad value (WORLD_SIZE 0, RANK >= WORLD_SIZE, a
/// port out of range, ...).
using EnvReader = std::function<std::optional<std::string>(const std::string&)>;
LaunchEnv read_launch_env(const EnvReader& get = {});

/// The ranks of a data-parallel job and the collectives between them
/// (c10d: Gloo on the CPU, NCCL for CUDA tensors where the build has it,
/// with Gloo beside it for CPU tensors). All collectives block until their
/// result is usable (NCCL's: until it is queued on the current stream) and
/// fail with a semifer::Error that names the ranks that look lost (no
/// heartbeat, or behind) after the backend's error or
/// train.distributed.timeout_s; no call waits longer (NCCL's watchdog ends
/// the process of a rank whose NCCL collective outlasts the timeout).
///
/// Every rank must issue the same collectives in the same order.
class Group {
 public:
  /// Joins the job: the rendezvous store (rank 0 serves it at
  /// MASTER_ADDR:MASTER_PORT, or torchrun's agent does), then the backend's
  /// connections. Collectives run on `device` (CUDA: the rank's GPU).
  static std::shared_ptr<Group> join(const LaunchEnv& env,
                                     const DistributedConfig& config,
                                     const c10::Device& device);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const;
  int size() const;
  const LaunchEnv& env() const;
  /// "gloo" or "nccl".
  std::string backend() const;
  /// Where this rank's Gloo connections are bound (NCCL's control channel
  /// too): GLOO_SOCKET_IFNAME's interface when set, 127.0.0.1 for a
  /// loopback MASTER_ADDR, on the master's machine where MASTER_ADDR is a
  /// host name mapped to a loopback address the address the other machines
  /// resolve it to, else this machine's source address on the route to
  /// MASTER_ADDR (docs/distributed.md).
  std::string gloo_address() const;

  /// Sums each tensor over the ranks, in place.
  void all_reduce_sum(std::vector<at::Tensor>& tensors);
  /// The elementwise maximum over the ranks, in place.
  void all_reduce_max(std::vector<at::Tensor>& tensors);
  /// Copies rank `root`'s tensors into every rank's, in place.
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  /// Every rank's `tensor` (same shape on all), in rank order, concatenated
  /// along dimension 0.
  at::Tensor all_gather(const at::Tensor& tensor);
  /// True on every rank when `flag` is true on any (a CPU collective).
  bool any(bool flag);
  /// Rank `root`'s bytes on every rank (a CPU collective).
  std::string broadcast_bytes(const std::string& bytes, int root = 0);

  /// A started sum; wait() finishes it (in place) and rethrows its error.
  class Pending {
   public:
    Pending();
    ~Pending();
    Pending(Pending&&) noexcept;
    Pending& operator=(Pending&&) noexcept;
    void wait();

   private:
    friend class Group;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };
  Pending all_reduce_sum_async(at::Tensor& tensor);

  /// The step this rank is at, published with its heartbeat (the error of a
  /// failed collective names the ranks behind).
  void set_step(int64_t step);

  /// Rethrows a backend error as a semifer::Error naming the lost ranks.
  [[noreturn]] void fail_collective(const std::string& what,
                                    const std::string& error);

  struct Impl;

 private:
  explicit Group(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Whether this build can run NCCL (a CUDA LibTorch whose c10d has it):
/// without it, CUDA tensors are all-reduced through Gloo.
bool nccl_built();

/// Joins the job `env` describes for a training run with `config`: on CUDA
/// each rank trains on GPU LOCAL_RANK (train.device `auto` or `cuda` becomes
/// `cuda:LOCAL_RANK`; an explicit `cuda:N` is kept).
std::shared_ptr<Group> join_training_job(const LaunchEnv& env,
                                         TrainConfig& config);

}  // namespace semifer::train
