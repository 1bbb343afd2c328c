#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "semifer/data/dataset.h"
#include "semifer/infer/input_spec.h"
#include "semifer/io/image.h"
#include "semifer/models/classifier.h"

namespace semifer::infer {

/// Gives image i of a set (decoded RGB, any size); may run on several
/// threads at once for different i.
using ImageLoader = std::function<io::Image(int64_t index)>;
/// Told the count of images done after each batch.
using BatchDone = std::function<void(int64_t done)>;

/// Class probabilities of `model` (put in eval mode, no gradient) for `n`
/// images, each resized to input.size and normalised as `input` says, no
/// augmentation, on the model's device. Decoding runs on the intra-op
/// threads. Returns [n, C] float32 on the CPU, rows in index order. The
/// loader's errors (an undecodable image names its file) propagate.
/// `batch` must be positive.
at::Tensor classify(models::ClassifierImpl& model, int64_t n,
                    const ImageLoader& load, const InputSpec& input,
                    int64_t batch = 64, const BatchDone& done = {});

/// classify() over pool items of a dataset, in the order of `items`.
at::Tensor classify(models::ClassifierImpl& model, const data::Dataset& dataset,
                    const std::vector<data::PoolItem>& items,
                    const InputSpec& input, int64_t batch = 64,
                    const BatchDone& done = {});

}  // namespace semifer::infer
