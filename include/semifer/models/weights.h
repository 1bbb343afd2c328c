#pragma once

#include <string>
#include <vector>

#include "semifer/io/state_dict.h"
#include "semifer/models/classifier.h"

namespace semifer::models {

/// What load_weights did with each tensor.
struct LoadReport {
  std::vector<std::string> loaded;      ///< copied from the file
  std::vector<std::string> replaced;    ///< classifier tensors whose shape
                                        ///< differs (another class count):
                                        ///< freshly initialised instead
  std::vector<std::string> missing;     ///< in the model, not in the file
  std::vector<std::string> unexpected;  ///< in the file, not in the model

  /// "loaded 312, replaced 2 (classifier.1.weight, ...), missing 0, unexpected
  /// 0".
  std::string summary() const;
};

/// Options of load_weights.
struct LoadOptions {
  /// Missing or unexpected tensors are errors (the classifier's replacement
  /// is always allowed).
  bool strict = true;
  /// Keys of a checkpoint saved from nn.DataParallel start with "module.";
  /// strip that prefix.
  bool strip_module_prefix = true;
};

/// Copies a state_dict (torchvision key names) into `model`. A tensor whose
/// shape differs is an error naming it, except the classifier's (keys under
/// `model.head_prefix()`), which is re-initialised: ImageNet's 1000 classes
/// become our 8. `source` names the file in messages.
LoadReport load_weights(ClassifierImpl& model, const io::StateDict& state,
                        const std::string& source,
                        const LoadOptions& options = {});

/// Reads a torchvision `.pth` file and loads it (see load_weights).
LoadReport import_weights(ClassifierImpl& model, const std::string& path,
                          const LoadOptions& options = {});

/// The model's state_dict in PyTorch's order (each module's parameters, then
/// its buffers, then its children), as CPU tensors.
io::StateDict state_dict(const torch::nn::Module& model);

/// Writes the model's state_dict as a `.pth` that
/// `torchvision.models.<arch>(num_classes=N).load_state_dict(torch.load(path))`
/// accepts.
void export_weights(const torch::nn::Module& model, const std::string& path);

}  // namespace semifer::models
