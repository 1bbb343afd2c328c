#pragma once

#include <string>

#include "semifer/models/classifier.h"

namespace semifer::train {

/// The two networks a training checkpoint holds (paper section 3.3).
enum class Network {
  kStudent,  ///< A, trained by gradient descent
  kTeacher,  ///< B, the exponential moving average of A
};

/// True when `path` is a checkpoint written by `semifer train` (not a
/// torch.save state_dict).
bool is_checkpoint(const std::string& path);

/// Loads network A or B of a training checkpoint into `model`, which must be
/// the checkpoint's architecture and class count. Throws semifer::Error
/// naming the file otherwise.
void load_from_checkpoint(models::ClassifierImpl& model,
                          const std::string& path, Network which);

}  // namespace semifer::train
