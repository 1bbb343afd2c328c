#include "semifer/train/pseudo_labels.h"

#include <torch/torch.h>

#include "semifer/util/error.h"

namespace semifer::train {

namespace {

// x <- m x + (1 - m) value, in place.
void ema(at::Tensor& x, const at::Tensor& value, double m) {
  x.mul_(m).add_(value, 1.0 - m);
}

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

constexpr const char* kNames[] = {"mean_probs", "free_global", "free_local",
                                  "soft_mean",  "soft_var",    "memory"};

}  // namespace

PseudoLabeler::PseudoLabeler()
    : PseudoLabeler(SslConfig{}, 1, 0, {}, c10::Device(c10::kCPU)) {}

PseudoLabeler::PseudoLabeler(const SslConfig& ssl, int num_classes,
                             int64_t unlabeled_size, std::vector<double> prior,
                             const c10::Device& device)
    : ssl_(ssl), num_classes_(num_classes) {
  SEMIFER_CHECK(num_classes > 0, "pseudo-labels need at least one class");
  const auto f = torch::TensorOptions(device).dtype(torch::kFloat32);
  const double uniform = 1.0 / num_classes;
  if (ssl.alignment == Alignment::kLabeled) {
    SEMIFER_CHECK(static_cast<int>(prior.size()) == num_classes,
                  "alignment: the labeled prior has ", prior.size(),
                  " classes, the model ", num_classes);
    prior_ = torch::tensor(prior, torch::kFloat64).to(device, torch::kFloat32);
    // A class absent from the labeled pool would get no pseudo-label at
    // all: give it a small share instead.
    prior_.clamp_min_(1e-3 * uniform);
    prior_.div_(prior_.sum());
  } else {
    prior_ = torch::full({num_classes}, uniform, f);
  }
  mean_probs_ = torch::full({num_classes}, uniform, f);
  free_global_ = torch::full({}, uniform, f);
  free_local_ = torch::full({num_classes}, uniform, f);
  soft_mean_ = torch::full({}, uniform, f);
  soft_var_ = torch::ones({}, f);
  const int64_t n =
      ssl.thresholds == ThresholdPolicy::kFlexMatch ? unlabeled_size : 0;
  memory_ =
      torch::full({n}, -1, torch::TensorOptions(device).dtype(torch::kInt64));
}

at::Tensor PseudoLabeler::flex_thresholds() const {
  // scatter_add, not bincount: a fixed output shape, no synchronisation.
  const auto counts =
      torch::zeros({num_classes_ + 1}, memory_.options().dtype(torch::kFloat32))
          .scatter_add_(0, memory_ + 1,
                        torch::ones({memory_.numel()},
                                    memory_.options().dtype(torch::kFloat32)));
  const auto sigma = counts.narrow(0, 1, num_classes_);
  const auto denom = torch::maximum(sigma.max(), counts[0]).clamp_min(1.0);
  const auto beta = sigma / denom;
  return ssl_.tau * beta / (2.0 - beta);
}

at::Tensor PseudoLabeler::free_thresholds() const {
  return free_global_ * free_local_ / free_local_.max();
}

PseudoLabels PseudoLabeler::label(const at::Tensor& probs,
                                  const at::Tensor& tau,
                                  const at::Tensor& index) {
  torch::NoGradGuard no_grad;
  const double m = ssl_.stats_momentum;
  at::Tensor p = probs.to(torch::kFloat32);
  const bool free_stats = ssl_.thresholds == ThresholdPolicy::kFreeMatch &&
                          ssl_.weighting == Weighting::kHard;
  at::Tensor batch_mean, batch_max_mean;  // of the step's raw probabilities
  if (free_stats || ssl_.alignment != Alignment::kNone) {
    batch_mean = p.mean(0);
    batch_max_mean = std::get<0>(p.max(1)).mean();
    if (sync_.mean) {
      at::Tensor both = torch::cat({batch_mean, batch_max_mean.reshape({1})});
      sync_.mean(both);
      batch_mean = both.narrow(0, 0, num_classes_);
      batch_max_mean = both[num_classes_];
    }
  }
  if (free_stats) {
    ema(free_global_, batch_max_mean, m);
    ema(free_local_, batch_mean, m);
  }
  if (ssl_.alignment != Alignment::kNone) {
    ema(mean_probs_, batch_mean, m);
    p = p * (prior_ / mean_probs_);
    p = p / p.sum(1, true);
  }
  PseudoLabels out;
  auto [confidence, pseudo] = p.max(1);
  out.confidence = confidence;
  out.pseudo = pseudo;
  if (ssl_.weighting == Weighting::kSoft) {
    if (sync_.mean) {
      // The whole step's mean and unbiased variance from the ranks' means
      // of conf and conf^2.
      at::Tensor moments =
          torch::stack({confidence.mean(), confidence.square().mean()});
      sync_.mean(moments);
      const double n =
          static_cast<double>(confidence.numel()) * sync_.world_size;
      ema(soft_mean_, moments[0], m);
      if (n > 1)
        ema(soft_var_,
            (moments[1] - moments[0].square()).clamp_min(0.0) * (n / (n - 1)),
            m);
    } else {
      ema(soft_mean_, confidence.mean(), m);
      if (confidence.numel() > 1) ema(soft_var_, confidence.var(), m);
    }
    const auto below = (confidence - soft_mean_).clamp_max(0.0);
    out.weight = torch::exp(-(below * below) / (2.0 * soft_var_ / 4.0));
    return out;
  }
  at::Tensor per_class;
  switch (ssl_.thresholds) {
    case ThresholdPolicy::kFlexMatch:
      per_class = flex_thresholds();
      break;
    case ThresholdPolicy::kFreeMatch:
      per_class = free_thresholds();
      break;
    default:
      per_class = tau.to(confidence.dtype());
  }
  // FreeMatch's mask is conf >= tau_c; the paper's and FlexMatch's conf >
  // tau_c (equality has probability zero but for saturated confidences).
  const auto cut = per_class.index_select(0, pseudo);
  out.weight =
      (ssl_.thresholds == ThresholdPolicy::kFreeMatch ? confidence.ge(cut)
                                                      : confidence.gt(cut))
          .to(torch::kFloat32);
  if (ssl_.thresholds == ThresholdPolicy::kFlexMatch) {
    const auto sure = confidence.gt(ssl_.tau);
    at::Tensor at = index, value = pseudo, known = sure;
    if (sync_.gather) {
      // Every rank's samples, in rank order: the order one process with
      // the whole step would write them in.
      at = sync_.gather(index.masked_fill(~sure, -1));
      value = sync_.gather(pseudo);
      known = at.ge(0);
      at = at.clamp_min(0);
    }
    // The sure samples' memory becomes their pseudo-label: added as a
    // difference (zero for the others), so that no operation's shape
    // depends on the values (no synchronisation with the device). index_add_
    // is one kernel of integer atomics on CUDA (index_put_'s accumulation
    // sorts the indices first), safe to capture in a CUDA graph.
    const auto delta = torch::where(
        known, value.to(memory_.scalar_type()) - memory_.index_select(0, at),
        torch::zeros_like(value, memory_.options()));
    memory_.index_add_(0, at, delta);
  }
  return out;
}

std::vector<double> PseudoLabeler::thresholds() const {
  if (ssl_.weighting == Weighting::kSoft) return {};
  torch::NoGradGuard no_grad;
  if (ssl_.thresholds == ThresholdPolicy::kFlexMatch)
    return to_vector(flex_thresholds());
  if (ssl_.thresholds == ThresholdPolicy::kFreeMatch)
    return to_vector(free_thresholds());
  return {};
}

void PseudoLabeler::save(torch::serialize::OutputArchive& archive) const {
  const at::Tensor* values[] = {&mean_probs_, &free_global_, &free_local_,
                                &soft_mean_,  &soft_var_,    &memory_};
  for (size_t i = 0; i < std::size(kNames); ++i)
    archive.write(kNames[i], values[i]->to(torch::kCPU));
}

void PseudoLabeler::load(torch::serialize::InputArchive& archive,
                         const std::string& path) {
  at::Tensor* values[] = {&mean_probs_, &free_global_, &free_local_,
                          &soft_mean_,  &soft_var_,    &memory_};
  for (size_t i = 0; i < std::size(kNames); ++i) {
    at::Tensor t;
    SEMIFER_CHECK(archive.try_read(kNames[i], t), path,
                  ": the checkpoint's pseudo-label state has no '", kNames[i],
                  "'");
    SEMIFER_CHECK(t.sizes() == values[i]->sizes() &&
                      t.scalar_type() == values[i]->scalar_type(),
                  path, ": the checkpoint's pseudo-label '", kNames[i],
                  "' has shape ", t.sizes(), ", the run needs ",
                  values[i]->sizes(),
                  " (another unlabeled pool or class count)");
    *values[i] = t.to(values[i]->device());
  }
}

}  // namespace semifer::train
