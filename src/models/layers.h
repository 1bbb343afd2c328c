// Building blocks shared by the architectures (private to src/models).
#pragma once

#include <torch/torch.h>

#include "semifer/models/sequence.h"

namespace semifer::models {

enum class Activation { kNone, kReLU, kSiLU };

struct BatchNormSpec {
  double eps = 1e-5;
  double momentum = 0.1;
};

/// An activation applied in place, as torchvision's Conv2dNormActivation
/// does (`inplace=True`): it saves an allocation per layer.
class InplaceActivationImpl
    : public torch::nn::Cloneable<InplaceActivationImpl> {
 public:
  explicit InplaceActivationImpl(Activation act) : act_(act) {}
  void reset() override {}
  at::Tensor forward(at::Tensor x) {
    return act_ == Activation::kSiLU ? torch::silu_(x) : torch::relu_(x);
  }

 private:
  Activation act_;
};
TORCH_MODULE(InplaceActivation);

/// torchvision's Conv2dNormActivation: Conv2d (no bias, "same" padding
/// (k - 1) / 2) -> BatchNorm2d -> activation, as a Sequential whose children
/// are named 0, 1, 2 like torchvision's.
Sequence conv_norm_act(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                       int64_t groups, BatchNormSpec bn, Activation act);

/// torchvision.ops.stochastic_depth(x, p, "row", training): drops each
/// sample's residual branch with probability p, scaling survivors by
/// 1 / (1 - p). Uses torch's default generator.
at::Tensor stochastic_depth(const at::Tensor& x, double p, bool training);

}  // namespace semifer::models
