#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace semifer::models {

/// torch::nn::Sequential with a plain `Tensor forward(Tensor)`, so that
/// sequences can nest (torchvision's `features.1.0.block.0.0.weight` keys
/// come from nested sequences). Children are named 0, 1, 2, ... like
/// PyTorch's nn.Sequential.
class SequenceImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  at::Tensor forward(at::Tensor x) {
    return SequentialImpl::forward(std::move(x));
  }

  /// A deep copy that is a SequenceImpl again (SequentialImpl::clone would
  /// make a plain SequentialImpl, which the holder of a nested sequence
  /// cannot use).
  std::shared_ptr<torch::nn::Module> clone(
      const c10::optional<torch::Device>& device =
          c10::nullopt) const override {
    auto copy = std::make_shared<SequenceImpl>();
    for (const auto& module : *this) copy->push_back(module.clone(device));
    return copy;
  }
};
TORCH_MODULE(Sequence);

}  // namespace semifer::models
