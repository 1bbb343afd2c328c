#pragma once

#include <torch/nn/module.h>

namespace semifer::train {

/// Network B of the paper (section 3.3): the exponential moving average of
/// network A's weights, updated after every optimizer step:
///   teacher = decay * teacher + (1 - decay) * student
/// for every parameter and every floating-point buffer (BatchNorm running
/// statistics); integer buffers (num_batches_tracked) are copied. The two
/// modules must have the same structure (the teacher is a clone of the
/// student). Runs without gradient.
void ema_update(torch::nn::Module& teacher, const torch::nn::Module& student,
                double decay);

}  // namespace semifer::train
