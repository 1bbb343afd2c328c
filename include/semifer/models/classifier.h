#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>

namespace semifer::models {

/// The interface every model of the zoo implements: an image classifier
/// built from a backbone and a final linear layer, with torchvision's
/// state_dict key names. Concrete models also derive from
/// torch::nn::Cloneable, so `clone_classifier()` (and `clone()`) give a deep
/// copy: the EMA teacher.
///
/// Input: [N, 3, H, W] float, normalised. Output of forward: [N, classes]
/// logits.
class ClassifierImpl : public virtual torch::nn::Module {
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
  /// A deep copy with its own parameters and buffers.
  std::shared_ptr<ClassifierImpl> clone_classifier() const;
};

using Classifier = std::shared_ptr<ClassifierImpl>;

}  // namespace semifer::models
