#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "semifer/models/classifier.h"
#include "semifer/models/sequence.h"

namespace semifer::models {

/// ResNet-18/34/50 exactly as torchvision 0.14 defines them (v1.5: the
/// stride sits in the 3x3 convolution of a bottleneck), with the same
/// state_dict keys: `conv1.weight`, `layer1.0.conv1.weight`, ..., `fc.weight`.
struct ResNetOptions {
  std::string arch = "resnet18";
  bool bottleneck = false;
  std::vector<int64_t> layers = {2, 2, 2, 2};
  int64_t num_classes = 8;
  double dropout = 0.0;  ///< before fc; torchvision has none

  /// torchvision's configuration of resnet18, resnet34 or resnet50.
  static ResNetOptions for_depth(int depth, int64_t num_classes);
};

/// BasicBlock (two 3x3) or Bottleneck (1x1, 3x3, 1x1 with expansion 4).
class ResidualBlockImpl : public torch::nn::Cloneable<ResidualBlockImpl> {
 public:
  ResidualBlockImpl(bool bottleneck, int64_t in, int64_t planes,
                    int64_t stride);
  void reset() override;
  at::Tensor forward(const at::Tensor& x);

 private:
  bool bottleneck_;
  int64_t in_, planes_, stride_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  Sequence downsample_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class ResNetImpl : public ClassifierImpl {
 public:
  explicit ResNetImpl(ResNetOptions options);
  void reset();
  at::Tensor forward(const at::Tensor& x) override;
  at::Tensor forward_features(const at::Tensor& x) override;
  int64_t num_features() const override { return num_features_; }
  int64_t num_classes() const override { return options_.num_classes; }
  std::string arch() const override { return options_.arch; }
  std::string head_prefix() const override { return "fc."; }

 protected:
  Classifier make_like() const override {
    return std::make_shared<ResNetImpl>(options_);
  }

 private:
  ResNetOptions options_;
  int64_t num_features_ = 0;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  Sequence layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr},
      layer4_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

/// A small, fast CNN for CPU demos and tests (about 0.66 M parameters; good at
/// 48x48 to 112x112): four stages of two 3x3 conv-BN-ReLU layers (widths 24,
/// 48, 96, 192; the first of each stage with stride 2),
/// global average pooling, dropout, linear. Keys: `features.*`,
/// `classifier.1.*`.
struct SmallNetOptions {
  int64_t num_classes = 8;
  double dropout = 0.2;
};

class SmallNetImpl : public ClassifierImpl {
 public:
  explicit SmallNetImpl(SmallNetOptions options);
  void reset();
  at::Tensor forward(const at::Tensor& x) override;
  at::Tensor forward_features(const at::Tensor& x) override;
  int64_t num_features() const override { return 192; }
  int64_t num_classes() const override { return options_.num_classes; }
  std::string arch() const override { return "smallnet"; }
  std::string head_prefix() const override { return "classifier.1."; }

 protected:
  Classifier make_like() const override {
    return std::make_shared<SmallNetImpl>(options_);
  }

 private:
  SmallNetOptions options_;
  Sequence features_{nullptr}, classifier_{nullptr};
};
TORCH_MODULE(SmallNet);

}  // namespace semifer::models
