#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "semifer/train/config.h"

namespace semifer::train {

/// The optimizer train.optimizer names over `params`: Adam (the paper's,
/// with L2 weight decay), AdamW (decoupled weight decay) or SGD with
/// train.momentum and train.nesterov, all at train.lr with
/// train.weight_decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const LoopConfig& loop, std::vector<at::Tensor> params);

/// The learning rate of step `step` (from 0) of a run of `total` steps:
/// linear warm-up from lr / warmup_steps to lr over the first warmup_steps
/// steps, then `constant` lr or `cosine` lr * (1 + cos(pi * t)) / 2 with t
/// going from 0 to 1 over the remaining steps (SGDR, Loshchilov and Hutter
/// 2017, without restarts).
double learning_rate(const LoopConfig& loop, int64_t step, int64_t total);

/// Sets every parameter group's learning rate.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace semifer::train
