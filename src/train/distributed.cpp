#include "semifer/train/distributed.h"

#include <torch/torch.h>

#include <cstring>

#include "group_impl.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::train {

namespace {

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

void Group::Impl::wait(const char* what,
                       const c10::intrusive_ptr<c10d::Work>& work,
                       const at::Tensor& t, Group& self) {
  try {
    if (on_nccl(t)) {
      work->wait();
    } else {
      work->wait(timeout);
    }
  } catch (const std::exception& e) {
    self.fail_collective(what, error_line(e));
  }
}

int Group::rank() const { return impl_->env.rank; }
int Group::size() const { return impl_->env.world_size; }
const LaunchEnv& Group::env() const { return impl_->env; }
std::string Group::backend() const { return impl_->backend_name; }
std::string Group::gloo_address() const { return impl_->address; }

void Group::set_step(int64_t step) { impl_->step.store(step); }

void Group::fail_collective(const std::string& what, const std::string& error) {
  impl_->failed = true;
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
      works.push_back(launch(impl.backend_for(buffer), one));
    }
  } catch (const std::exception& e) {
    g.fail_collective(what, error_line(e));
  }
  for (size_t i = 0; i < works.size(); ++i)
    impl.wait(what, works[i], flat.buffers[i], g);
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
                  [&](Backend& b, std::vector<at::Tensor>& t) {
                    return b.allreduce(t, reduce_with(op));
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
                  [&](Backend& b, std::vector<at::Tensor>& t) {
                    c10d::BroadcastOptions o;
                    o.rootRank = root;
                    return b.broadcast(t, o);
                  });
}

at::Tensor Group::all_gather(const at::Tensor& tensor) {
  std::vector<at::Tensor> input = {tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < size(); ++r)
    output[0].push_back(torch::empty_like(input[0]));
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->backend_for(input[0]).allgather(output, input);
  } catch (const std::exception& e) {
    fail_collective("all-gather", error_line(e));
  }
  impl_->wait("all-gather", work, input[0], *this);
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
  impl_->wait("all-reduce", work, t[0], *this);
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
    impl_->wait("broadcast", work, t, *this);
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
  at::Tensor tensor;  // what the work reduces
};

Group::Pending::Pending() = default;
Group::Pending::~Pending() = default;
Group::Pending::Pending(Pending&&) noexcept = default;
Group::Pending& Group::Pending::operator=(Pending&&) noexcept = default;

void Group::Pending::wait() {
  if (!impl_ || !impl_->work) return;
  auto work = std::move(impl_->work);
  impl_->group->impl_->wait("all-reduce", work, impl_->tensor, *impl_->group);
}

Group::Pending Group::all_reduce_sum_async(at::Tensor& tensor) {
  Pending p;
  p.impl_ = std::make_unique<Pending::Impl>();
  p.impl_->group = this;
  p.impl_->tensor = tensor;
  std::vector<at::Tensor> t = {tensor};
  try {
    p.impl_->work = impl_->backend_for(tensor).allreduce(
        t, reduce_with(c10d::ReduceOp::SUM));
  } catch (const std::exception& e) {
    fail_collective("all-reduce", error_line(e));
  }
  return p;
}

}  // namespace semifer::train
