#include "layers.h"

namespace semifer::models {

namespace nn = torch::nn;

Sequence conv_norm_act(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                       int64_t groups, BatchNormSpec bn, Activation act) {
  Sequence seq;
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                                .stride(stride)
                                .padding((kernel - 1) / 2)
                                .groups(groups)
                                .bias(false)));
  seq->push_back(nn::BatchNorm2d(
      nn::BatchNormOptions(out).eps(bn.eps).momentum(bn.momentum)));
  if (act != Activation::kNone) seq->push_back(InplaceActivation(act));
  return seq;
}

at::Tensor stochastic_depth(const at::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  const double survival = 1.0 - p;
  auto noise =
      torch::empty({x.size(0), 1, 1, 1}, x.options()).bernoulli_(survival);
  if (survival > 0.0) noise.div_(survival);
  return x * noise;
}

}  // namespace semifer::models
