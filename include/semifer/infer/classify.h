#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
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

/// Images classify() left out (`may_skip`): their positions in `items`,
/// ascending, and the one-line errors naming their files.
struct Skipped {
  std::vector<size_t> positions;
  std::vector<std::string> messages;
};

/// classify() that leaves out image i when load(i) throws semifer::Error
/// and may_skip(i): the result has no row for it and `skipped` lists it.
at::Tensor classify_skipping(models::ClassifierImpl& model, int64_t n,
                             const ImageLoader& load,
                             const std::function<bool(int64_t)>& may_skip,
                             Skipped& skipped, const InputSpec& input,
                             int64_t batch = 64, const BatchDone& done = {});

/// Whether an item whose image fails to decode may be left out.
using MaySkip = std::function<bool(const data::PoolItem& item)>;

/// classify() over pool items of a dataset, in the order of `items`. With
/// `may_skip` and `skipped` given, an image that fails to decode and that
/// may_skip allows is left out: the result has no row for it and
/// `skipped` lists it; other decoding errors propagate.
at::Tensor classify(models::ClassifierImpl& model, const data::Dataset& dataset,
                    const std::vector<data::PoolItem>& items,
                    const InputSpec& input, int64_t batch = 64,
                    const BatchDone& done = {}, const MaySkip& may_skip = {},
                    Skipped* skipped = nullptr);

/// A MaySkip that follows each item's source (`on_error` of images: skip).
MaySkip skip_as_sources_say(const data::Dataset& dataset);

}  // namespace semifer::infer
