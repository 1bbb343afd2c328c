#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "semifer/models/classifier.h"

namespace semifer::train {

/// The two networks a training checkpoint holds (paper section 3.3).
enum class Network {
  kStudent,  ///< A, trained by gradient descent
  kTeacher,  ///< B, the exponential moving average of A
};

/// What a checkpoint says about the model it holds, enough to rebuild it and
/// feed it images as training did (`semifer eval`, `semifer predict`).
struct CheckpointInfo {
  std::string model;                 ///< zoo name (models/registry.h)
  double dropout = -1;               ///< as given to the model (< 0: default)
  std::vector<std::string> classes;  ///< model output order, canonical names
  int size = 224;                    ///< input side in pixels
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  int64_t step = 0;  ///< training steps done when it was written
};

/// True when `path` is a checkpoint written by `semifer train` (not a
/// torch.save state_dict).
bool is_checkpoint(const std::string& path);

/// Reads the description stored in a checkpoint. Throws semifer::Error
/// naming the file when it is no semifer checkpoint.
CheckpointInfo read_checkpoint_info(const std::string& path);

/// Loads network A or B of a training checkpoint into `model`, which must be
/// the checkpoint's architecture and class count. Throws semifer::Error
/// naming the file otherwise.
void load_from_checkpoint(models::ClassifierImpl& model,
                          const std::string& path, Network which);

/// Builds the checkpoint's architecture (read_checkpoint_info) and loads
/// network `which` into it, in eval mode on the CPU; the description goes to
/// `info` when given (the file is read once).
models::Classifier load_checkpoint_model(const std::string& path, Network which,
                                         CheckpointInfo* info = nullptr);

}  // namespace semifer::train
