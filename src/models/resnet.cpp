#include "semifer/models/resnet.h"

#include <torch/torch.h>

#include "layers.h"
#include "semifer/util/error.h"

namespace semifer::models {

namespace nn = torch::nn;

ResNetOptions ResNetOptions::for_depth(int depth, int64_t num_classes) {
  ResNetOptions o;
  o.num_classes = num_classes;
  o.arch = str("resnet", depth);
  switch (depth) {
    case 18:
      o.layers = {2, 2, 2, 2};
      break;
    case 34:
      o.layers = {3, 4, 6, 3};
      break;
    case 50:
      o.layers = {3, 4, 6, 3};
      o.bottleneck = true;
      break;
    default:
      fail("ResNet depth must be 18, 34 or 50, got ", depth);
  }
  return o;
}

namespace {
nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k)
                        .stride(stride)
                        .padding((k - 1) / 2)
                        .bias(false));
}
}  // namespace

ResidualBlockImpl::ResidualBlockImpl(bool bottleneck, int64_t in,
                                     int64_t planes, int64_t stride)
    : bottleneck_(bottleneck), in_(in), planes_(planes), stride_(stride) {
  reset();
}

void ResidualBlockImpl::reset() {
  const int64_t expansion = bottleneck_ ? 4 : 1;
  const int64_t out = planes_ * expansion;
  if (bottleneck_) {
    conv1_ = register_module("conv1", conv(in_, planes_, 1, 1));
    bn1_ = register_module("bn1", nn::BatchNorm2d(planes_));
    conv2_ = register_module("conv2", conv(planes_, planes_, 3, stride_));
    bn2_ = register_module("bn2", nn::BatchNorm2d(planes_));
    conv3_ = register_module("conv3", conv(planes_, out, 1, 1));
    bn3_ = register_module("bn3", nn::BatchNorm2d(out));
  } else {
    conv1_ = register_module("conv1", conv(in_, planes_, 3, stride_));
    bn1_ = register_module("bn1", nn::BatchNorm2d(planes_));
    conv2_ = register_module("conv2", conv(planes_, planes_, 3, 1));
    bn2_ = register_module("bn2", nn::BatchNorm2d(planes_));
  }
  if (stride_ != 1 || in_ != out) {
    Sequence down;
    down->push_back(conv(in_, out, 1, stride_));
    down->push_back(nn::BatchNorm2d(out));
    downsample_ = register_module("downsample", down);
  }
}

at::Tensor ResidualBlockImpl::forward(const at::Tensor& x) {
  // In-place ReLU and sum, as torchvision's blocks do.
  auto y = bn1_->forward(conv1_->forward(x)).relu_();
  if (bottleneck_) {
    y = bn2_->forward(conv2_->forward(y)).relu_();
    y = bn3_->forward(conv3_->forward(y));
  } else {
    y = bn2_->forward(conv2_->forward(y));
  }
  y += downsample_ ? downsample_->forward(x) : x;
  return y.relu_();
}

ResNetImpl::ResNetImpl(ResNetOptions options) : options_(std::move(options)) {
  reset();
}

void ResNetImpl::reset() {
  const auto& o = options_;
  SEMIFER_CHECK(o.layers.size() == 4, "ResNet needs 4 stages");
  SEMIFER_CHECK(o.num_classes > 0, "num_classes must be positive");
  conv1_ = register_module(
      "conv1",
      nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  bn1_ = register_module("bn1", nn::BatchNorm2d(64));
  const int64_t expansion = o.bottleneck ? 4 : 1;
  int64_t in = 64;
  Sequence* layers[4] = {&layer1_, &layer2_, &layer3_, &layer4_};
  const int64_t planes[4] = {64, 128, 256, 512};
  for (int i = 0; i < 4; ++i) {
    Sequence layer;
    for (int64_t b = 0; b < o.layers[i]; ++b) {
      layer->push_back(
          ResidualBlock(o.bottleneck, in, planes[i], b == 0 && i > 0 ? 2 : 1));
      in = planes[i] * expansion;
    }
    *layers[i] = register_module(str("layer", i + 1), layer);
  }
  num_features_ = 512 * expansion;
  fc_ = register_module("fc", nn::Linear(num_features_, o.num_classes));
  // torchvision's initialisation (fc keeps PyTorch's default, as there).
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

at::Tensor ResNetImpl::forward_features(const at::Tensor& x) {
  auto y = bn1_->forward(conv1_->forward(x)).relu_();
  y = torch::max_pool2d(y, 3, 2, 1);
  y = layer4_->forward(layer3_->forward(layer2_->forward(layer1_->forward(y))));
  return torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
}

at::Tensor ResNetImpl::forward(const at::Tensor& x) {
  auto f = forward_features(x);
  if (options_.dropout > 0)
    f = torch::dropout(f, options_.dropout, is_training());
  return fc_->forward(f);
}

SmallNetImpl::SmallNetImpl(SmallNetOptions options) : options_(options) {
  reset();
}

void SmallNetImpl::reset() {
  Sequence features;
  const int64_t widths[4] = {24, 48, 96, 192};
  int64_t in = 3;
  for (int s = 0; s < 4; ++s) {
    features->push_back(
        conv_norm_act(in, widths[s], 3, 2, 1, {}, Activation::kReLU));
    features->push_back(
        conv_norm_act(widths[s], widths[s], 3, 1, 1, {}, Activation::kReLU));
    in = widths[s];
  }
  features_ = register_module("features", features);
  Sequence classifier;
  classifier->push_back(nn::Dropout(nn::DropoutOptions(options_.dropout)));
  classifier->push_back(nn::Linear(192, options_.num_classes));
  classifier_ = register_module("classifier", classifier);
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
  }
}

at::Tensor SmallNetImpl::forward_features(const at::Tensor& x) {
  return torch::adaptive_avg_pool2d(features_->forward(x), {1, 1}).flatten(1);
}

at::Tensor SmallNetImpl::forward(const at::Tensor& x) {
  return classifier_->forward(forward_features(x));
}

}  // namespace semifer::models
