#include "semifer/train/optimizer.h"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "semifer/util/error.h"
#include "semifer/util/torch_compat.h"

namespace semifer::train {

namespace {

namespace optim = torch::optim;

// Adam's arithmetic (torch::optim::Adam's or AdamW's step, without amsgrad)
// over every parameter of a group in a few multi-tensor calls: foreach
// operations, or CUDA's fused kernel. The state stays the base class's
// (step count, exp_avg, exp_avg_sq per parameter), so it saves and loads as
// the base class's does.
template <class Base, class Options, class ParamState>
class MultiTensorAdam : public Base, public GraphSafeOptimizer {
 public:
  MultiTensorAdam(std::vector<at::Tensor> params, const Options& options,
                  bool fused, bool decoupled)
      : Base(std::move(params), options),
        fused_(fused),
        decoupled_(decoupled) {}

  at::Tensor step(optim::Optimizer::LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    at::Tensor loss;
    if (closure) {
      at::AutoGradMode enable_grad(true);
      loss = closure();
    }
    for (auto& group : this->param_groups()) step_group(group);
    return loss;
  }

  bool capturable() const override {
    return fused_ && compat::kHasTensorLrFusedAdam;
  }

  void set_device_lr(at::Tensor lr) override {
    TORCH_CHECK(capturable(),
                "a device learning rate needs the fused kernel with a tensor "
                "learning rate (LibTorch >= 2.2, CUDA)");
    lr_ = std::move(lr);
  }

  void begin_capture() override {
    capturing_ = true;
    captured_.clear();
    captured_steps_.clear();
  }

  void end_capture(bool kept) override {
    capturing_ = false;
    if (kept) return;
    for (auto* st : captured_) st->step(st->step() - 1);
    // The captured kernels never ran, and a step tensor made during the
    // capture was never filled: each is made anew from the host count.
    for (auto* d : captured_steps_) d->count = -1;
    captured_.clear();
    captured_steps_.clear();
  }

  void count_replay() override {
    for (auto* st : captured_) st->step(st->step() + 1);
    for (auto* d : captured_steps_) d->count += 1;
  }

 private:
  struct DeviceStep {
    int64_t count = -1;  // the host count the tensor holds
    at::Tensor value;
  };

  void step_group(optim::OptimizerParamGroup& group) {
    auto& o = static_cast<Options&>(group.options());
    TORCH_CHECK(!o.amsgrad(), "semifer's multi-tensor Adam has no amsgrad");
    const double beta1 = std::get<0>(o.betas());
    const double beta2 = std::get<1>(o.betas());
    std::vector<at::Tensor> params, grads, avg, avg_sq, steps;
    std::vector<at::Scalar> bc2_sqrt, neg_step_size;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "Adam has no sparse gradients");
      auto& slot = compat::optimizer_state_slot(this->state(), p);
      if (!slot) {
        auto fresh = std::make_unique<ParamState>();
        fresh->step(0);
        fresh->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
        fresh->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& st = static_cast<ParamState&>(*slot);
      // A state loaded from a run of another layout (train.channels_last
      // changed on resume, or a CPU run's checkpoint on CUDA) takes the
      // parameter's: CUDA's fused kernel refuses tensors of different
      // layouts. Once, before any capture: then they agree.
      if (st.exp_avg().strides() != p.strides())
        st.exp_avg(at::empty_like(p).copy_(st.exp_avg()));
      if (st.exp_avg_sq().strides() != p.strides())
        st.exp_avg_sq(at::empty_like(p).copy_(st.exp_avg_sq()));
      st.step(st.step() + 1);
      if (capturing_) captured_.push_back(&st);
      params.push_back(p);
      grads.push_back(p.grad());
      avg.push_back(st.exp_avg());
      avg_sq.push_back(st.exp_avg_sq());
      const double bc1 = 1 - std::pow(beta1, static_cast<double>(st.step()));
      const double bc2 = 1 - std::pow(beta2, static_cast<double>(st.step()));
      bc2_sqrt.emplace_back(std::sqrt(bc2));
      neg_step_size.emplace_back(-o.lr() / bc1);
      if (fused_) steps.push_back(device_step(p, st.step() - 1));
    }
    if (params.empty()) return;
    const double wd = o.weight_decay();
    if (fused_) {
      // The kernel reads the step counts from the device (no host value
      // baked in per parameter).
      at::_foreach_add_(steps, 1);
      for (auto& p : params) {
        DeviceStep& d = steps_[p.unsafeGetTensorImpl()];
        d.count += 1;
        if (capturing_) captured_steps_.push_back(&d);
      }
      if (lr_.defined()) {
        compat::fused_adam_(params, grads, avg, avg_sq, steps, lr_, beta1,
                            beta2, wd, o.eps(), decoupled_);
      } else {
        compat::fused_adam_(params, grads, avg, avg_sq, steps, o.lr(), beta1,
                            beta2, wd, o.eps(), decoupled_);
      }
      return;
    }
    if (wd != 0) {
      if (decoupled_) {
        at::_foreach_mul_(params, 1 - o.lr() * wd);
      } else {
        grads = at::_foreach_add(grads, params, wd);
      }
    }
    at::_foreach_mul_(avg, beta1);
    at::_foreach_add_(avg, grads, 1 - beta1);
    at::_foreach_mul_(avg_sq, beta2);
    at::_foreach_addcmul_(avg_sq, grads, grads, 1 - beta2);
    auto denom = at::_foreach_sqrt(avg_sq);
    at::_foreach_div_(denom, bc2_sqrt);
    at::_foreach_add_(denom, o.eps());
    at::_foreach_addcdiv_(params, avg, denom, neg_step_size);
  }

  // The parameter's step count before this step as a device tensor, made
  // anew when the host count moved without it (a loaded state).
  const at::Tensor& device_step(const at::Tensor& p, int64_t before) {
    DeviceStep& d = steps_[p.unsafeGetTensorImpl()];
    if (d.count != before) {
      d.value = at::full({}, static_cast<double>(before),
                         p.options().dtype(at::kFloat));
      d.count = before;
    }
    return d.value;
  }

  bool fused_;
  bool decoupled_;
  std::unordered_map<void*, DeviceStep> steps_;
  at::Tensor lr_;  // set_device_lr's tensor (undefined: the host value)
  bool capturing_ = false;
  // What the captured step counted (the states outlive the optimizer's
  // use of them: parameters are never removed).
  std::vector<ParamState*> captured_;
  std::vector<DeviceStep*> captured_steps_;
};

using MultiTensorAdamL2 =
    MultiTensorAdam<optim::Adam, optim::AdamOptions, optim::AdamParamState>;
using MultiTensorAdamW =
    MultiTensorAdam<optim::AdamW, optim::AdamWOptions, optim::AdamWParamState>;

}  // namespace

GraphSafeOptimizer* graph_safe(torch::optim::Optimizer& optimizer) {
  return dynamic_cast<GraphSafeOptimizer*>(&optimizer);
}

OptimizerKernels resolve_kernels(OptimizerKernels kernels, OptimizerKind kind,
                                 const c10::Device& device) {
  const bool fused_exists =
      kind == OptimizerKind::kAdam ||
      (kind == OptimizerKind::kAdamW && compat::kHasFusedAdamW);
  switch (kernels) {
    case OptimizerKernels::kAuto:
      return device.is_cuda() && fused_exists ? OptimizerKernels::kFused
                                              : OptimizerKernels::kForeach;
    case OptimizerKernels::kFused:
      SEMIFER_CHECK(kind != OptimizerKind::kSgd,
                    "train.optimizer_kernels: fused: only adam and adamw have "
                    "a fused kernel (train.optimizer is sgd)");
      SEMIFER_CHECK(device.is_cuda(),
                    "train.optimizer_kernels: fused runs on CUDA only; the "
                    "parameters are on ",
                    device.str(), " (use auto or foreach)");
      SEMIFER_CHECK(fused_exists, "train.optimizer_kernels: fused: LibTorch ",
                    compat::torch_version(),
                    " has no fused AdamW kernel (use auto or foreach)");
      return kernels;
    case OptimizerKernels::kForeach:
    case OptimizerKernels::kLoop:
      break;
  }
  return kernels;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const LoopConfig& loop, std::vector<at::Tensor> params) {
  const c10::Device device =
      params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  const OptimizerKernels kernels =
      resolve_kernels(loop.optimizer_kernels, loop.optimizer, device);
  const bool fused = kernels == OptimizerKernels::kFused;
  const bool loop_kernels = kernels == OptimizerKernels::kLoop;
  switch (loop.optimizer) {
    case OptimizerKind::kSgd:
      return std::make_unique<optim::SGD>(std::move(params),
                                          optim::SGDOptions(loop.lr)
                                              .momentum(loop.momentum)
                                              .nesterov(loop.nesterov)
                                              .weight_decay(loop.weight_decay));
    case OptimizerKind::kAdamW: {
      const auto options =
          optim::AdamWOptions(loop.lr).weight_decay(loop.weight_decay);
      if (loop_kernels)
        return std::make_unique<optim::AdamW>(std::move(params), options);
      return std::make_unique<MultiTensorAdamW>(std::move(params), options,
                                                fused, /*decoupled=*/true);
    }
    case OptimizerKind::kAdam:
      break;
  }
  const auto options =
      optim::AdamOptions(loop.lr).weight_decay(loop.weight_decay);
  if (loop_kernels)
    return std::make_unique<optim::Adam>(std::move(params), options);
  return std::make_unique<MultiTensorAdamL2>(std::move(params), options, fused,
                                             /*decoupled=*/false);
}

double learning_rate(const LoopConfig& loop, int64_t step, int64_t total) {
  const int64_t warmup = loop.warmup_steps;
  if (warmup > 0 && step < warmup)
    return loop.lr * static_cast<double>(step + 1) /
           static_cast<double>(warmup);
  if (loop.lr_schedule == LrSchedule::kConstant) return loop.lr;
  const int64_t span = std::max<int64_t>(total - warmup, 1);
  const double t = std::min(
      1.0, static_cast<double>(step - warmup) / static_cast<double>(span));
  return loop.lr * (1.0 + std::cos(M_PI * t)) / 2.0;
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined()) p.mutable_grad() = at::Tensor();
    }
  }
}

at::Tensor clip_gradient_norm(const std::vector<at::Tensor>& params,
                              double max_norm) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return at::zeros({});
  torch::NoGradGuard no_grad;
  const at::Tensor total = at::stack(at::_foreach_norm(grads, 2)).norm(2);
  const at::Tensor factor = (max_norm / (total + 1e-6)).clamp_max(1.0);
  compat::foreach_mul_(grads, factor);
  return total;
}

}  // namespace semifer::train
