#include "semifer/train/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <cmath>

namespace semifer::train {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const LoopConfig& loop, std::vector<at::Tensor> params) {
  namespace optim = torch::optim;
  switch (loop.optimizer) {
    case OptimizerKind::kSgd:
      return std::make_unique<optim::SGD>(std::move(params),
                                          optim::SGDOptions(loop.lr)
                                              .momentum(loop.momentum)
                                              .nesterov(loop.nesterov)
                                              .weight_decay(loop.weight_decay));
    case OptimizerKind::kAdamW:
      return std::make_unique<optim::AdamW>(
          std::move(params),
          optim::AdamWOptions(loop.lr).weight_decay(loop.weight_decay));
    case OptimizerKind::kAdam:
      break;
  }
  return std::make_unique<optim::Adam>(
      std::move(params),
      optim::AdamOptions(loop.lr).weight_decay(loop.weight_decay));
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

}  // namespace semifer::train
