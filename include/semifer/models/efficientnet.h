#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "semifer/models/classifier.h"
#include "semifer/models/sequence.h"

namespace semifer::models {

/// EfficientNet-B0 .. B7 exactly as torchvision 0.14 defines them (MBConv
/// with squeeze-excitation, SiLU, stochastic depth), with the same
/// state_dict keys: `features.0.0.weight`, ..., `classifier.1.weight`.
struct EfficientNetOptions {
  std::string arch = "efficientnet_b0";
  double width_mult = 1.0;
  double depth_mult = 1.0;
  double dropout = 0.2;
  double stochastic_depth = 0.2;
  int64_t num_classes = 8;
  double bn_eps = 1e-5;      ///< B5-B7: 1e-3
  double bn_momentum = 0.1;  ///< B5-B7: 0.01

  /// torchvision's configuration of "efficientnet_b<k>", k = 0..7.
  static EfficientNetOptions for_variant(int k, int64_t num_classes);
};

/// Squeeze-and-excitation: x * sigmoid(fc2(silu(fc1(avgpool(x))))).
class SqueezeExcitationImpl
    : public torch::nn::Cloneable<SqueezeExcitationImpl> {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t squeeze);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);

 private:
  int64_t channels_, squeeze_;
  torch::nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

/// torchvision's MBConv block: [expand 1x1] -> depthwise kxk -> SE -> project
/// 1x1, with a residual (and stochastic depth) when shapes allow.
struct MBConvConfig {
  double expand_ratio;
  int64_t kernel, stride, in, out;
  double stochastic_depth;
  double bn_eps, bn_momentum;
};

class MBConvImpl : public torch::nn::Cloneable<MBConvImpl> {
 public:
  explicit MBConvImpl(MBConvConfig config);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);

 private:
  MBConvConfig config_;
  Sequence block_{nullptr};
};
TORCH_MODULE(MBConv);

class EfficientNetImpl : public ClassifierImpl {
 public:
  explicit EfficientNetImpl(EfficientNetOptions options);
  void reset();
  at::Tensor forward(const at::Tensor& x) override;
  at::Tensor forward_features(const at::Tensor& x) override;
  int64_t num_features() const override { return num_features_; }
  int64_t num_classes() const override { return options_.num_classes; }
  std::string arch() const override { return options_.arch; }
  std::string head_prefix() const override { return "classifier.1."; }

 protected:
  Classifier make_like() const override {
    return std::make_shared<EfficientNetImpl>(options_);
  }

 private:
  EfficientNetOptions options_;
  int64_t num_features_ = 0;
  Sequence features_{nullptr}, classifier_{nullptr};
};
TORCH_MODULE(EfficientNet);

}  // namespace semifer::models
