#include "semifer/models/efficientnet.h"

#include <torch/torch.h>

#include <cmath>

#include "layers.h"
#include "semifer/util/error.h"

namespace semifer::models {

namespace nn = torch::nn;

namespace {

// torchvision's _make_divisible(v, 8).
int64_t make_divisible(double v, int64_t divisor = 8) {
  int64_t new_v = std::max<int64_t>(
      divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;
  return new_v;
}

}  // namespace

EfficientNetOptions EfficientNetOptions::for_variant(int k,
                                                     int64_t num_classes) {
  static const double kWidth[8] = {1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0};
  static const double kDepth[8] = {1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1};
  static const double kDropout[8] = {0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5};
  SEMIFER_CHECK(k >= 0 && k <= 7, "EfficientNet variant must be B0..B7, got B",
                k);
  EfficientNetOptions o;
  o.arch = str("efficientnet_b", k);
  o.width_mult = kWidth[k];
  o.depth_mult = kDepth[k];
  o.dropout = kDropout[k];
  o.num_classes = num_classes;
  if (k >= 5) {
    o.bn_eps = 1e-3;
    o.bn_momentum = 0.01;
  }
  return o;
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeeze)
    : channels_(channels), squeeze_(squeeze) {
  reset();
}

void SqueezeExcitationImpl::reset() {
  fc1_ = register_module("fc1",
                         nn::Conv2d(nn::Conv2dOptions(channels_, squeeze_, 1)));
  fc2_ = register_module("fc2",
                         nn::Conv2d(nn::Conv2dOptions(squeeze_, channels_, 1)));
}

at::Tensor SqueezeExcitationImpl::forward(const at::Tensor& x) {
  auto s = torch::adaptive_avg_pool2d(x, {1, 1});
  s = fc1_->forward(s);
  torch::silu_(s);
  s = fc2_->forward(s).sigmoid_();
  return s * x;
}

MBConvImpl::MBConvImpl(MBConvConfig config) : config_(config) { reset(); }

void MBConvImpl::reset() {
  const auto& c = config_;
  const int64_t expanded = make_divisible(c.in * c.expand_ratio);
  Sequence block;
  const BatchNormSpec bn{c.bn_eps, c.bn_momentum};
  if (expanded != c.in)
    block->push_back(
        conv_norm_act(c.in, expanded, 1, 1, 1, bn, Activation::kSiLU));
  block->push_back(conv_norm_act(expanded, expanded, c.kernel, c.stride,
                                 expanded, bn, Activation::kSiLU));
  block->push_back(SqueezeExcitation(expanded, std::max<int64_t>(1, c.in / 4)));
  block->push_back(
      conv_norm_act(expanded, c.out, 1, 1, 1, bn, Activation::kNone));
  block_ = register_module("block", block);
}

at::Tensor MBConvImpl::forward(const at::Tensor& x) {
  auto result = block_->forward(x);
  if (config_.stride == 1 && config_.in == config_.out) {
    result = stochastic_depth(result, config_.stochastic_depth, is_training());
    result += x;
  }
  return result;
}

EfficientNetImpl::EfficientNetImpl(EfficientNetOptions options)
    : options_(std::move(options)) {
  reset();
}

void EfficientNetImpl::reset() {
  const auto& o = options_;
  SEMIFER_CHECK(o.num_classes > 0, "num_classes must be positive");
  struct Stage {
    double expand;
    int64_t kernel, stride, in, out, layers;
  };
  // torchvision's inverted_residual_setting for efficientnet_b*.
  const Stage base[7] = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},
                         {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
                         {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4},
                         {6, 3, 1, 192, 320, 1}};
  std::vector<Stage> stages;
  int64_t total_blocks = 0;
  for (const Stage& s : base) {
    Stage a = s;
    a.in = make_divisible(s.in * o.width_mult);
    a.out = make_divisible(s.out * o.width_mult);
    a.layers = static_cast<int64_t>(std::ceil(s.layers * o.depth_mult));
    stages.push_back(a);
    total_blocks += a.layers;
  }
  const BatchNormSpec bn{o.bn_eps, o.bn_momentum};
  Sequence features;
  features->push_back(
      conv_norm_act(3, stages[0].in, 3, 2, 1, bn, Activation::kSiLU));
  int64_t block_id = 0;
  for (const Stage& s : stages) {
    Sequence stage;
    for (int64_t i = 0; i < s.layers; ++i) {
      MBConvConfig c{
          s.expand,
          s.kernel,
          i == 0 ? s.stride : 1,
          i == 0 ? s.in : s.out,
          s.out,
          o.stochastic_depth * static_cast<double>(block_id) / total_blocks,
          o.bn_eps,
          o.bn_momentum};
      stage->push_back(MBConv(c));
      ++block_id;
    }
    features->push_back(stage);
  }
  const int64_t last_in = stages.back().out;
  num_features_ = 4 * last_in;
  features->push_back(
      conv_norm_act(last_in, num_features_, 1, 1, 1, bn, Activation::kSiLU));
  features_ = register_module("features", features);
  Sequence classifier;
  classifier->push_back(nn::Dropout(nn::DropoutOptions(o.dropout)));
  classifier->push_back(nn::Linear(num_features_, o.num_classes));
  classifier_ = register_module("classifier", classifier);

  // torchvision's initialisation.
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* norm = m->as<nn::BatchNorm2d>()) {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    } else if (auto* linear = m->as<nn::Linear>()) {
      const double range =
          1.0 / std::sqrt(static_cast<double>(linear->options.out_features()));
      torch::nn::init::uniform_(linear->weight, -range, range);
      torch::nn::init::zeros_(linear->bias);
    }
  }
}

at::Tensor EfficientNetImpl::forward_features(const at::Tensor& x) {
  return torch::adaptive_avg_pool2d(features_->forward(x), {1, 1}).flatten(1);
}

at::Tensor EfficientNetImpl::forward(const at::Tensor& x) {
  return classifier_->forward(forward_features(x));
}

}  // namespace semifer::models
