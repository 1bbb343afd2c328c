#pragma once

#include <cstdint>
#include <vector>

#include "semifer/augment/config.h"
#include "semifer/io/image.h"

namespace semifer::augment {

/// A grid with one row per image: the image resized to the model input, its
/// weak view and its strong view (before normalisation), with a 2-pixel
/// gutter. Views come from the same plans the trainer draws for sample
/// index i of epoch 0 with `seed`.
io::Image preview_grid(const std::vector<io::Image>& images,
                       const AugmentConfig& config, uint64_t seed);

}  // namespace semifer::augment
