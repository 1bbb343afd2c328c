#pragma once

#include <string>
#include <vector>

#include "semifer/io/state_dict.h"

namespace semifer::models {

/// What `semifer weights inspect` prints about a state_dict.
struct WeightsInfo {
  int64_t tensors = 0;
  int64_t parameters = 0;  ///< elements of floating-point tensors
  /// Zoo architectures whose keys and shapes the file matches exactly, but
  /// for the classifier, with the class count the file's classifier implies:
  /// "efficientnet_b0 (1000 classes)".
  std::vector<std::string> matches;
};

WeightsInfo inspect_weights(const io::StateDict& state);

}  // namespace semifer::models
