#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "semifer/train/config.h"

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace semifer::train {

/// Pseudo-labels of one unlabeled batch, on the training device.
struct PseudoLabels {
  at::Tensor pseudo;      ///< [U] int64: argmax of the (aligned) probabilities
  at::Tensor confidence;  ///< [U] float: their maximum
  at::Tensor weight;      ///< [U] float in [0, 1]: each sample's loss weight
};

/// Turns the unlabeled batch's class probabilities into pseudo-labels and
/// loss weights under the recipe of `ssl:` (docs/training.md, "Pseudo-label
/// recipes"), and keeps the running estimates that recipe needs:
/// - alignment (ReMixMatch, Berthelot et al. 2020; SoftMatch's uniform
///   alignment): p <- normalise(p * prior / m), m the running mean of p;
/// - thresholds `fixed` and `dynamic`: weight = [conf > tau[y]] with the
///   DTM's tau (thresholds.h);
/// - `flexmatch` (Zhang et al. 2021): remembers each unlabeled sample's last
///   prediction above tau; per class sigma_c = samples remembered as c,
///   beta_c = sigma_c / max(max_c sigma_c, samples never above tau),
///   tau_c = tau * beta_c / (2 - beta_c) (the convex mapping with warm-up);
/// - `freematch` (Wang et al. 2023): tau_g = running mean of conf (from
///   1/C), p~ = running mean of p (from 1/C), tau_c = tau_g * p~_c /
///   max p~;
/// - weighting `soft` (Chen et al. 2023): weight = exp(-min(conf - mu, 0)^2
///   / (2 var / 4)), mu and var the running mean and variance of conf (from
///   1/C and 1); the threshold policy is not used then.
/// The running estimates move with ssl.stats_momentum, updated with the
/// current batch before it is labeled (as the papers' code does); FlexMatch's
/// memory is updated after.
class PseudoLabeler {
 public:
  /// The paper's recipe for one class (a placeholder until the run's is
  /// built).
  PseudoLabeler();
  /// `prior`: the labeled pool's class shares (alignment `labeled`);
  /// `unlabeled_size`: the unlabeled pool's size (FlexMatch's memory).
  PseudoLabeler(const SslConfig& ssl, int num_classes, int64_t unlabeled_size,
                std::vector<double> prior, const c10::Device& device);

  /// `probs`: [U, C] probabilities, no gradient; `tau`: [C] the DTM's (or
  /// the fixed) thresholds; `index`: [U] int64 positions in the unlabeled
  /// pool (FlexMatch).
  PseudoLabels label(const at::Tensor& probs, const at::Tensor& tau,
                     const at::Tensor& index);

  /// How a data-parallel rank shares its batch statistics: `mean` replaces
  /// a tensor in place by its mean over the ranks, `gather` returns every
  /// rank's tensor concatenated in rank order. With it set, the running
  /// estimates move by the statistics of the whole step (all ranks'
  /// batches), the same on every rank.
  struct RankSync {
    std::function<void(at::Tensor&)> mean;
    std::function<at::Tensor(const at::Tensor&)> gather;
    int world_size = 1;
  };
  void set_rank_sync(RankSync sync) { sync_ = std::move(sync); }

  /// The per-class thresholds in use, for metrics: FlexMatch's and
  /// FreeMatch's current ones; empty for the other policies (the DTM's are
  /// in thresholds.h) and under soft weighting.
  std::vector<double> thresholds() const;

  /// The running estimates, for checkpoints (a nested archive).
  void save(torch::serialize::OutputArchive& archive) const;
  /// Reads what save() wrote; `path` names the file in errors.
  void load(torch::serialize::InputArchive& archive, const std::string& path);

 private:
  at::Tensor flex_thresholds() const;
  at::Tensor free_thresholds() const;

  SslConfig ssl_;
  int num_classes_ = 1;
  at::Tensor prior_;                     ///< [C] alignment target
  at::Tensor mean_probs_;                ///< [C] alignment's running mean of p
  at::Tensor free_global_, free_local_;  ///< [] and [C]
  at::Tensor soft_mean_, soft_var_;      ///< [] and []
  at::Tensor memory_;  ///< [N] int64, -1: never above tau (FlexMatch)
  RankSync sync_;      ///< unset: one process
};

}  // namespace semifer::train
