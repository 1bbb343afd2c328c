#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/augment/config.h"
#include "semifer/data/config.h"
#include "semifer/train/losses.h"
#include "semifer/util/key_doc.h"

namespace semifer::train {

/// `model:` of a training config.
struct ModelConfig {
  std::string name = "smallnet";  ///< a zoo name (models/registry.h)
  std::string weights;            ///< optional .pth to start from
  double dropout = -1;            ///< < 0: the architecture's default
};

/// The optimizer of `train.optimizer`: Adam (the paper's), AdamW (decoupled
/// weight decay, Loshchilov and Hutter 2019) or SGD with momentum (FixMatch's).
enum class OptimizerKind { kAdam, kAdamW, kSgd };

/// How Adam and AdamW update the parameters (train.optimizer_kernels): the
/// same arithmetic as torch::optim::Adam's per-parameter loop, in fewer
/// kernel launches. SGD always runs LibTorch's loop.
enum class OptimizerKernels {
  kAuto,     ///< kFused on CUDA where LibTorch has the kernel, else kForeach
  kForeach,  ///< multi-tensor at::_foreach_* operations
  kFused,    ///< at::_fused_adam_ / _fused_adamw_ (CUDA only)
  kLoop,     ///< LibTorch's per-parameter loop
};

/// Where the weak and strong views are rendered (train.views).
enum class ViewsPlace {
  kAuto,    ///< kDevice when training on CUDA, else kCpu
  kCpu,     ///< the loader's threads, fused per image (augment/views.h)
  kDevice,  ///< batched tensor operations on the training device
            ///< (augment/batched.h); the loader only decodes and resizes
};

/// How the learning rate moves over a run (train.lr_schedule).
enum class LrSchedule {
  kConstant,  ///< `train.lr` throughout (paper section 4.2)
  kCosine,    ///< half a cosine from lr to 0 over the run (SGDR, FixMatch)
};

/// The collective backend of a data-parallel run (train.distributed.backend).
enum class DistBackend {
  kAuto,  ///< NCCL on CUDA, Gloo on the CPU
  kGloo,
  kNccl,  ///< CUDA builds of LibTorch only
};

/// `train.distributed:` how a data-parallel run (launched by torchrun,
/// Slurm or `semifer launch`; docs/distributed.md) communicates. Ignored by
/// a single process.
struct DistributedConfig {
  DistBackend backend = DistBackend::kAuto;
  double bucket_mb = 25;   ///< gradient bucket size (PyTorch DDP's default)
  double timeout_s = 300;  ///< a collective or the rendezvous waits this long
};

/// Which validation macro F1 picks checkpoint_best.pt (train.best.monitor).
enum class BestMonitor {
  kEither,   ///< the better of A and B at each validation
  kStudent,  ///< A's
  kTeacher,  ///< B's (the paper's final model)
};

/// `train.best:` how the best checkpoints are chosen (docs/training.md).
struct BestConfig {
  BestMonitor monitor = BestMonitor::kEither;
  /// Validations before this step do not count (the EMA teacher starts near
  /// the initial weights).
  int64_t min_step = 0;
  /// The k best validations by the monitor each keep a checkpoint_step<N>.pt
  /// (1: checkpoint_best.pt only).
  int64_t keep = 1;
};

/// `train:` of a training config.
/// The most steps a run may ask for (train.epochs x train.steps_per_epoch):
/// 10^12, far beyond any run, and far from int64 overflow.
inline constexpr int64_t kMaxSteps = 1'000'000'000'000;
/// The largest train.batch_labeled and train.batch_unlabeled.
inline constexpr int64_t kMaxBatch = 65536;

struct LoopConfig {
  int64_t epochs = 10;
  int64_t steps_per_epoch = 1000;
  /// epochs x steps_per_epoch: the run's last step.
  int64_t total_steps() const { return epochs * steps_per_epoch; }
  /// The epoch (from 1) of step `step` (from 1: the step just taken).
  int64_t epoch_of(int64_t step) const {
    return (step - 1) / steps_per_epoch + 1;
  }
  int64_t batch_labeled = 32;
  int64_t batch_unlabeled = 32;
  double lr = 5e-4;  ///< Adam, fixed (paper section 4.2)
  OptimizerKind optimizer = OptimizerKind::kAdam;
  double momentum = 0.9;    ///< SGD only
  bool nesterov = true;     ///< SGD only
  double weight_decay = 0;  ///< L2 (Adam, SGD) or decoupled (AdamW)
  LrSchedule lr_schedule = LrSchedule::kConstant;
  int64_t warmup_steps = 0;   ///< linear learning-rate warm-up (0: none)
  double clip_grad_norm = 0;  ///< clip the gradients' global L2 norm (0: off)
  uint64_t seed = 0;
  int threads = 2;         ///< loader worker threads
  int torch_threads = 0;   ///< intra-op threads; 0: the process's setting
  int64_t log_every = 50;  ///< steps between progress lines and metric lines
  int64_t checkpoint_every =
      500;  ///< steps between checkpoints (and each epoch end)
  bool deterministic = false;  ///< one intra-op thread, deterministic kernels
  /// auto (CUDA when LibTorch has a device, else CPU), cpu, cuda, cuda:N.
  std::string device = "auto";
  bool bf16 = true;           ///< CUDA only: bfloat16 autocast for forwards
  bool channels_last = true;  ///< CUDA only: NHWC weights and batches
  OptimizerKernels optimizer_kernels = OptimizerKernels::kAuto;
  ViewsPlace views = ViewsPlace::kAuto;
  /// CUDA only: cuDNN times its algorithms for each new shape and keeps the
  /// fastest (off under `deterministic`).
  bool cudnn_benchmark = true;
  /// CUDA only: float32 matrix products and convolutions may use TF32
  /// tensor cores (as PyTorch's default for cuDNN).
  bool tf32 = true;
  /// CUDA only: capture the step as a CUDA graph after a few eager steps and
  /// replay it (graph.h); steps run eagerly, with a message, where it
  /// cannot be.
  bool cuda_graph = false;
  /// A step loss above this stops the run (divergence); <= 0: only NaN and
  /// infinity do.
  double max_loss = 1000;
  BestConfig best;
  DistributedConfig distributed;
};

/// How pseudo-labels are accepted (ssl.thresholds, docs/training.md).
enum class ThresholdPolicy {
  kFixed,      ///< tau for every class (the paper's ablation)
  kDynamic,    ///< the paper's DTM (equations 6-8)
  kFlexMatch,  ///< curriculum per-class thresholds (Zhang et al. 2021)
  kFreeMatch,  ///< self-adaptive global and per-class ones (Wang et al. 2023)
};

/// Which probabilities give the pseudo-labels (ssl.pseudo_labels).
enum class PseudoSource {
  kMean,     ///< (P_A(weak) + P_A(strong)) / 2, the paper's equation 2
  kWeak,     ///< P_A(weak), FixMatch
  kTeacher,  ///< P_B(weak), the EMA teacher's (Mean Teacher style)
};

/// How a pseudo-label's loss is weighted (ssl.weighting).
enum class Weighting {
  kHard,  ///< 1 above the threshold, 0 below (the paper's mask)
  kSoft,  ///< SoftMatch's truncated Gaussian of the confidence
};

/// Distribution alignment of the pseudo-label probabilities
/// (ssl.alignment): p <- normalise(p * prior / running mean of p).
enum class Alignment {
  kNone,     ///< the paper's
  kLabeled,  ///< prior = the labeled pool's class shares (ReMixMatch)
  kUniform,  ///< prior = 1 / C (SoftMatch's uniform alignment)
};

/// Where the DTM measures the teacher (ssl.dtm_on).
enum class DtmData {
  kLabeled,  ///< the labeled training images (the paper's equation 6)
  kHeldOut,  ///< a per-class share of the labeled set kept out of training
};

/// `ssl:` of a training config (paper sections 3.2-3.4).
struct SslConfig {
  bool enabled = true;  ///< false: the supervised stage only
  double lambda_labeled = 1.0;
  double lambda_unlabeled = 0.8;
  PseudoTarget target = PseudoTarget::kStrong;
  ThresholdPolicy thresholds = ThresholdPolicy::kDynamic;
  double tau = 0.95;  ///< initial (or fixed, or FlexMatch's base) threshold
  double mu = 0.9;    ///< DTM smoothing
  double ema_decay = 0.999;
  int64_t dtm_per_class = 500;  ///< labeled samples per class the teacher
                                ///< predicts at each epoch end (0: all)
  /// Steps over which lambda_unlabeled ramps up linearly from 0 (0: off,
  /// the paper's constant weight); unlabeled_weight() in losses.h.
  int64_t unlabeled_warmup = 0;
  PseudoSource pseudo_labels = PseudoSource::kMean;
  Weighting weighting = Weighting::kHard;
  Alignment alignment = Alignment::kNone;
  /// Momentum of the running estimates of FreeMatch, SoftMatch and the
  /// alignment (their papers' 0.999).
  double stats_momentum = 0.999;
  DtmData dtm_on = DtmData::kLabeled;
  double dtm_holdout = 0.1;    ///< share per class held out (dtm_on: heldout)
  bool dtm_weak_view = false;  ///< DTM on weak views (Ada-CM), not clean ones
};

/// A training config (docs/config.md): the data, the views, the model and
/// the loop.
struct TrainConfig {
  data::DataConfig data;
  augment::AugmentConfig augment;
  ModelConfig model;
  LoopConfig train;
  SslConfig ssl;
  int64_t eval_max = 0;  ///< validation samples evaluated (0: all)

  void validate() const;
};

/// Every key equal (paths as resolved, floats exactly): for round-trip tests
/// and resume checks.
bool operator==(const ModelConfig& a, const ModelConfig& b);
bool operator==(const DistributedConfig& a, const DistributedConfig& b);
bool operator==(const BestConfig& a, const BestConfig& b);
bool operator==(const LoopConfig& a, const LoopConfig& b);
bool operator==(const SslConfig& a, const SslConfig& b);
bool operator==(const TrainConfig& a, const TrainConfig& b);

/// Reads a YAML training config; `overrides` are "dotted.key=value" strings
/// (`--set train.epochs=3`) applied before mapping. `data:` is a path to a
/// data config (relative to this file) or an inline map. Unknown keys are
/// errors naming the file and line.
TrainConfig load_train_config(const std::string& path,
                              const std::vector<std::string>& overrides = {});

/// The resolved config as YAML, for RUN_DIR/config.yaml: every key that has
/// a value (an optional key left unset, such as `model.weights` or a source's
/// `leftovers_to_unlabeled`, is left out and reads back unset), data inline,
/// paths absolute. load_train_config of it, from any folder, gives a config
/// equal to `config`.
std::string to_yaml(const TrainConfig& config);

/// Parses a resolved config (to_yaml's output, as a checkpoint stores it);
/// `name` names it in errors (paths in it are absolute).
TrainConfig parse_train_config(const std::string& yaml,
                               const std::string& name);

/// One key whose value differs between two configs.
struct ConfigChange {
  /// Dotted: "train.lr", "data.classes", "data.labeled[0].root" (a source
  /// of a list of unchanged length), "data.labeled" (the list's length
  /// changed).
  std::string key;
  /// The values as to_yaml writes them, on one line (lists and maps in flow
  /// style); "" where the key is absent (unset) on that side.
  std::string before, after;
};

/// The keys whose written values differ, in to_yaml's order; empty when
/// `before == after`. For a resume: refuse when the classes, the model or the
/// data changed, log the rest.
std::vector<ConfigChange> config_changes(const TrainConfig& before,
                                         const TrainConfig& after);

/// One key's value as to_yaml writes it ("dynamic" for "ssl.thresholds");
/// "" when the key is absent.
std::string config_value(const TrainConfig& config, const std::string& key);

/// Every documented key of a training config (docs/config.md lists exactly
/// these; tests/train/config_test.cpp holds the two equal): "data",
/// "data.classes", "data.source.subset.from", "data.source.rafdb.split",
/// "augment.size", "model.name", "train.lr", "ssl.tau", "eval.max_samples".
std::vector<util::KeyDoc> train_config_keys();

}  // namespace semifer::train
