#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>

namespace semifer::models {

/// The interface every model of the zoo implements: an image classifier
/// built from a backbone and a final linear layer, with torchvision's
/// state_dict key names. `clone_classifier()` gives a deep copy: the EMA
/// teacher.
///
/// Why not torch::nn::Cloneable: LibTorch 1.13 derives Cloneable virtually
/// from Module, LibTorch 2.x does not, so a class that is both a Cloneable
/// and a ClassifierImpl would hold two Modules there. Concrete models derive
/// from ClassifierImpl alone and say how to build an empty twin
/// (make_like); the copying is done once, here.
///
/// Input: [N, 3, H, W] float, normalised. Output of forward: [N, classes]
/// logits.
class ClassifierImpl : public torch::nn::Module {
 public:
  /// Logits, [N, num_classes()].
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  /// Pooled features before the classifier, [N, num_features()].
  virtual at::Tensor forward_features(const at::Tensor& x) = 0;
  virtual int64_t num_features() const = 0;
  virtual int64_t num_classes() const = 0;
  /// The registry name ("efficientnet_b0", "resnet18", ...).
  virtual std::string arch() const = 0;
  /// Prefix of the final layer's state_dict keys ("classifier.1.", "fc.").
  virtual std::string head_prefix() const = 0;
  /// A deep copy with its own parameters and buffers (same device, layout
  /// and training mode). Draws nothing from torch's random generator.
  std::shared_ptr<ClassifierImpl> clone_classifier() const;

 protected:
  /// A new model of the same architecture and options (weights freshly
  /// initialised; clone_classifier overwrites them).
  virtual std::shared_ptr<ClassifierImpl> make_like() const = 0;
};

using Classifier = std::shared_ptr<ClassifierImpl>;

}  // namespace semifer::models
