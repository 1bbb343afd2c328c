#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "semifer/augment/config.h"
#include "semifer/data/dataset.h"
#include "semifer/models/classifier.h"

namespace semifer::eval {

/// Class probabilities of `model` (in eval mode, without gradient) for the
/// pool items, each decoded, resized to `augment.size` and normalised with
/// `augment.mean` / `augment.std`, no augmentation. Returns [N, C] float32
/// on the CPU, rows in the order of `items`. An undecodable image throws
/// semifer::Error naming the file (validate data with `data stats --verify`).
at::Tensor predict_probs(models::ClassifierImpl& model,
                         const data::Dataset& dataset,
                         const std::vector<data::PoolItem>& items,
                         const augment::AugmentConfig& augment,
                         int64_t batch = 64);

}  // namespace semifer::eval
