#include "semifer/train/gradient_reducer.h"

#include <torch/torch.h>

#include <mutex>

#include "semifer/train/distributed.h"
#include "semifer/util/error.h"

namespace semifer::train {

struct GradientReducer::Impl {
  struct Bucket {
    std::vector<size_t> params;
    at::Tensor flat;
    size_t waiting = 0;  // gradients not in yet this step
    bool started = false;
    Group::Pending work;
  };

  std::shared_ptr<Group> group;
  std::vector<at::Tensor> params;
  std::vector<size_t> bucket_of, offset_of;
  std::vector<bool> ready;
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  std::mutex mutex;
  size_t next = 0;  // the next bucket to start: buckets start in order
  bool armed = false;

  void arm() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& b : buckets) {
      b.waiting = b.params.size();
      b.started = false;
    }
    std::fill(ready.begin(), ready.end(), false);
    next = 0;
    armed = true;
  }

  at::Tensor slice(size_t i) {
    const auto& p = params[i];
    return buckets[bucket_of[i]].flat.narrow(
        0, static_cast<int64_t>(offset_of[i]), p.numel());
  }

  void start_ready() {
    while (next < buckets.size() && buckets[next].waiting == 0) {
      auto& b = buckets[next];
      b.work = group->all_reduce_sum_async(b.flat);
      b.started = true;
      ++next;
    }
  }

  void on_gradient(size_t i, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || ready[i]) return;
    torch::NoGradGuard no_grad;
    slice(i).copy_(grad.reshape({-1}));
    ready[i] = true;
    --buckets[bucket_of[i]].waiting;
    start_ready();
  }
};

GradientReducer::GradientReducer(std::shared_ptr<Group> group,
                                 std::vector<at::Tensor> params,
                                 double bucket_mb)
    : impl_(std::make_unique<Impl>()) {
  SEMIFER_CHECK(group != nullptr, "GradientReducer needs a group");
  SEMIFER_CHECK(bucket_mb > 0, "the bucket size must be positive, got ",
                bucket_mb);
  Impl& m = *impl_;
  m.group = std::move(group);
  m.params = std::move(params);
  const size_t n = m.params.size();
  m.bucket_of.assign(n, 0);
  m.offset_of.assign(n, 0);
  m.ready.assign(n, false);
  const double cap = bucket_mb * 1024.0 * 1024.0;
  // Reverse order: the last layers' gradients are ready first.
  std::vector<std::vector<size_t>> members;
  double bytes = 0;
  for (size_t k = n; k-- > 0;) {
    const auto& p = m.params[k];
    const bool new_bucket =
        members.empty() || bytes >= cap ||
        m.params[members.back().front()].scalar_type() != p.scalar_type() ||
        m.params[members.back().front()].device() != p.device();
    if (new_bucket) {
      members.emplace_back();
      bytes = 0;
    }
    members.back().push_back(k);
    bytes += static_cast<double>(p.numel() * p.element_size());
  }
  for (size_t b = 0; b < members.size(); ++b) {
    Impl::Bucket bucket;
    int64_t size = 0;
    for (size_t k : members[b]) {
      m.bucket_of[k] = b;
      m.offset_of[k] = static_cast<size_t>(size);
      size += m.params[k].numel();
    }
    const auto& first = m.params[members[b].front()];
    bucket.flat = torch::zeros({size}, first.options().requires_grad(false));
    bucket.params = std::move(members[b]);
    m.buckets.push_back(std::move(bucket));
  }
  for (size_t k = 0; k < n; ++k) {
    Impl* raw = impl_.get();
    m.hooks.push_back(m.params[k].register_hook(
        [raw, k](const at::Tensor& grad) { raw->on_gradient(k, grad); }));
  }
  m.arm();
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < impl_->hooks.size(); ++k) {
    try {
      impl_->params[k].remove_hook(impl_->hooks[k]);
    } catch (const std::exception&) {
    }
  }
}

void GradientReducer::prepare() { impl_->arm(); }

void GradientReducer::finish() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < m.params.size(); ++k) {
      if (m.ready[k]) continue;
      m.slice(k).zero_();
      m.ready[k] = true;
      --m.buckets[m.bucket_of[k]].waiting;
    }
    m.start_ready();
    m.armed = false;
  }
  const double world = m.group->size();
  torch::NoGradGuard no_grad;
  for (auto& b : m.buckets) {
    b.work.wait();
    b.flat.div_(world);
    for (size_t k : b.params) {
      auto& p = m.params[k];
      const at::Tensor mean = m.slice(k).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(mean);
      } else {
        // In the parameter's layout (NHWC under train.channels_last): the
        // fused Adam refuses a gradient laid out otherwise.
        p.mutable_grad() = at::empty_like(p).copy_(mean);
      }
    }
  }
  m.arm();
}

std::vector<int64_t> GradientReducer::bucket_sizes() const {
  std::vector<int64_t> out;
  for (const auto& b : impl_->buckets)
    out.push_back(static_cast<int64_t>(b.params.size()));
  return out;
}

}  // namespace semifer::train
