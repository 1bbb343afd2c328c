#pragma once

#include <array>

namespace semifer::infer {

/// How a model wants its images: resized to size x size RGB, then
/// normalised per channel, (x / 255 - mean) / std. Written into checkpoints
/// and model cards, so whoever runs a model feeds it as training did.
struct InputSpec {
  int size = 224;                                        ///< side in pixels
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};  ///< ImageNet's
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};

  /// Throws semifer::Error when size < 1 or a std is not positive.
  void validate() const;
  bool operator==(const InputSpec& o) const {
    return size == o.size && mean == o.mean && std == o.std;
  }
};

}  // namespace semifer::infer
