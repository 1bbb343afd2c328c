#include "config_keys.h"

#include <algorithm>

#include "semifer/models/registry.h"
#include "semifer/util/device.h"

namespace semifer::train {

namespace {

using util::at_least;
using util::Field;
using util::FieldContext;
using util::positive;
using util::Section;
using util::value;
using util::within;

std::vector<util::KeyDoc> under(const std::string& prefix,
                                std::vector<util::KeyDoc> keys) {
  for (auto& k : keys) k.key = util::dotted(prefix, k.key);
  return keys;
}

util::Rule<std::string> zoo_model() {
  std::string list;
  for (const auto& n : models::model_names())
    list += (list.empty() ? "" : ", ") + n;
  return {[](const std::string& name) {
            const auto names = models::model_names();
            return std::find(names.begin(), names.end(), name) != names.end();
          },
          "must name a zoo model: " + list};
}

const Section<ModelConfig>& model_section() {
  using C = ModelConfig;
  static const Section<C> s(
      "model", "model",
      {value("name", &C::name, "A zoo model (docs/models.md).", zoo_model()),
       util::path("weights", &C::weights,
                  "What to start from: a `.pth` or a `semifer train` "
                  "checkpoint."),
       value("dropout", &C::dropout,
             "Dropout before the classifier (< 0: the architecture's; "
             "below 1).",
             util::Rule<double>{[](double p) { return p < 1.0; },
                                "must be below 1 (< 0: the architecture's)"})});
  return s;
}

const Section<DistributedConfig>& distributed_section() {
  using C = DistributedConfig;
  static const Section<C> s(
      "train.distributed", "train.distributed",
      {util::choice(
           "backend", &C::backend,
           {{"auto", DistBackend::kAuto},
            {"gloo", DistBackend::kGloo},
            {"nccl", DistBackend::kNccl}},
           "`auto` (NCCL on CUDA, Gloo on the CPU), `gloo` or `nccl`."),
       value("bucket_mb", &C::bucket_mb,
             "Megabytes of gradients per all-reduce bucket.",
             positive<double>()),
       value("timeout_s", &C::timeout_s,
             "Seconds a rendezvous or collective waits for the other ranks "
             "before the run fails.",
             positive<double>())});
  return s;
}

const Section<BestConfig>& best_section() {
  using C = BestConfig;
  static const Section<C> s(
      "train.best", "train.best",
      {util::choice("monitor", &C::monitor,
                    {{"either", BestMonitor::kEither},
                     {"a", BestMonitor::kStudent},
                     {"b", BestMonitor::kTeacher}},
                    "The validation macro F1 that picks checkpoint_best.pt: "
                    "`either` (the better of A and B), `a` or `b`."),
       value("min_step", &C::min_step,
             "Validations before this step do not count for the best "
             "checkpoints.",
             at_least<int64_t>(0)),
       value("keep", &C::keep,
             "The k best validations by the monitor each keep a "
             "checkpoint_step<N>.pt (1: checkpoint_best.pt only).",
             positive<int64_t>())});
  return s;
}

const Section<LoopConfig>& loop_section() {
  using C = LoopConfig;
  static const Section<C> s(
      "train", "train",
      {value("epochs", &C::epochs, "Epochs.", positive<int64_t>()),
       value("steps_per_epoch", &C::steps_per_epoch,
             "Steps per epoch (paper: 1000).", positive<int64_t>()),
       value("batch_labeled", &C::batch_labeled,
             "Labeled samples per step (at most 65536).",
             within<int64_t>(1, kMaxBatch)),
       value("batch_unlabeled", &C::batch_unlabeled,
             "Unlabeled samples per step (semi-supervised stage; at most "
             "65536).",
             within<int64_t>(0, kMaxBatch)),
       value("lr", &C::lr,
             "Learning rate (the peak one under a schedule; paper: Adam "
             "5e-4, fixed).",
             positive<double>()),
       util::choice("optimizer", &C::optimizer,
                    {{"adam", OptimizerKind::kAdam},
                     {"adamw", OptimizerKind::kAdamW},
                     {"sgd", OptimizerKind::kSgd}},
                    "`adam` (the paper's), `adamw` or `sgd`."),
       value("momentum", &C::momentum, "SGD's momentum.", within(0.0, 1.0)),
       value("nesterov", &C::nesterov, "SGD with Nesterov momentum."),
       value("weight_decay", &C::weight_decay,
             "Weight decay (L2 for adam and sgd, decoupled for adamw).",
             at_least(0.0)),
       util::choice("lr_schedule", &C::lr_schedule,
                    {{"constant", LrSchedule::kConstant},
                     {"cosine", LrSchedule::kCosine}},
                    "`constant` (the paper's) or `cosine` (from lr to 0 over "
                    "the run, after the warm-up)."),
       value("warmup_steps", &C::warmup_steps,
             "Steps of linear learning-rate warm-up from 0 (0: none).",
             at_least<int64_t>(0)),
       value("clip_grad_norm", &C::clip_grad_norm,
             "Clips the gradients' global L2 norm to this (0: off).",
             at_least(0.0)),
       value("seed", &C::seed,
             "Seed of the unlabeled order, the views, torch's generator."),
       value("threads", &C::threads, "Loader worker threads (1..256).",
             within(1, util::kMaxThreads)),
       value("torch_threads", &C::torch_threads,
             "Intra-op threads (0: keep the process's setting; more than "
             "the CPUs: one per CPU; at most 256).",
             within(0, util::kMaxThreads)),
       value("log_every", &C::log_every,
             "Steps between progress and metric lines.", positive<int64_t>()),
       value("checkpoint_every", &C::checkpoint_every,
             "Steps between checkpoints (also at each epoch end).",
             positive<int64_t>()),
       value("deterministic", &C::deterministic,
             "One intra-op thread, deterministic kernels."),
       value("device", &C::device, "`auto`, `cpu`, `cuda` or `cuda:N`."),
       value("bf16", &C::bf16, "CUDA only: forwards under bfloat16 autocast."),
       value("channels_last", &C::channels_last,
             "CUDA only: NHWC weights and batches."),
       util::choice("optimizer_kernels", &C::optimizer_kernels,
                    {{"auto", OptimizerKernels::kAuto},
                     {"foreach", OptimizerKernels::kForeach},
                     {"fused", OptimizerKernels::kFused},
                     {"loop", OptimizerKernels::kLoop}},
                    "Adam and AdamW's update: `auto` (`fused` on CUDA, else "
                    "`foreach`), `foreach` (multi-tensor), `fused` (CUDA) or "
                    "`loop` (per parameter)."),
       util::choice("views", &C::views,
                    {{"auto", ViewsPlace::kAuto},
                     {"cpu", ViewsPlace::kCpu},
                     {"device", ViewsPlace::kDevice}},
                    "Where the weak and strong views are rendered: `auto` "
                    "(`device` on CUDA, else `cpu`), `cpu` (the loader's "
                    "threads) or `device` (batched on the training device; "
                    "docs/augment.md)."),
       value("cudnn_benchmark", &C::cudnn_benchmark,
             "CUDA only: cuDNN picks the fastest algorithm per shape (off "
             "when deterministic)."),
       value("tf32", &C::tf32,
             "CUDA only: float32 products and convolutions may use TF32."),
       value("cuda_graph", &C::cuda_graph,
             "CUDA only: the step is captured as a CUDA graph after 3 eager "
             "steps and replayed (fused Adam, LibTorch >= 2.2, one "
             "process, not deterministic); else steps run eagerly, with a "
             "message. A capture that fails stops the run."),
       value("max_loss", &C::max_loss,
             "A step loss above it stops the run (divergence); 0: only NaN "
             "and infinity do.",
             at_least(0.0)),
       util::nested<C>(
           "best", best_section(), [](auto& c) -> auto& { return c.best; }),
       util::nested<C>(
           "distributed", distributed_section(),
           [](auto& c) -> auto& { return c.distributed; })});
  return s;
}

const Section<SslConfig>& ssl_section() {
  using C = SslConfig;
  static const Section<C> s(
      "ssl", "ssl",
      {value("enabled", &C::enabled, "`false`: the supervised stage only."),
       value("lambda_labeled", &C::lambda_labeled,
             "Weight lambda1 of the labeled loss.", at_least(0.0)),
       value("lambda_unlabeled", &C::lambda_unlabeled,
             "Weight lambda2 of the unlabeled loss.", at_least(0.0)),
       util::choice(
           "target", &C::target,
           {{"strong", PseudoTarget::kStrong}, {"weak", PseudoTarget::kWeak}},
           "The prediction of network A the unlabeled loss applies "
           "to: `strong` or `weak`."),
       util::choice("thresholds", &C::thresholds,
                    {{"dynamic", ThresholdPolicy::kDynamic},
                     {"fixed", ThresholdPolicy::kFixed},
                     {"flexmatch", ThresholdPolicy::kFlexMatch},
                     {"freematch", ThresholdPolicy::kFreeMatch}},
                    "`dynamic` (the DTM), `fixed`, `flexmatch` or "
                    "`freematch`."),
       value("tau", &C::tau,
             "Initial (dynamic), fixed, or base (flexmatch) threshold.",
             within(0.0, 1.0)),
       value("mu", &C::mu, "DTM smoothing.", within(0.0, 1.0)),
       value("ema_decay", &C::ema_decay,
             "Decay of the EMA teacher (network B).", within(0.0, 1.0)),
       value("dtm_per_class", &C::dtm_per_class,
             "Labeled samples per class the teacher predicts at each epoch "
             "end (0: all).",
             at_least<int64_t>(0)),
       value("unlabeled_warmup", &C::unlabeled_warmup,
             "Steps over which lambda_unlabeled ramps up linearly from 0 "
             "(0: off, the paper's constant weight).",
             at_least<int64_t>(0)),
       util::choice("pseudo_labels", &C::pseudo_labels,
                    {{"mean", PseudoSource::kMean},
                     {"weak", PseudoSource::kWeak},
                     {"teacher", PseudoSource::kTeacher}},
                    "Pseudo-labels from `mean` (A's weak and strong views, "
                    "the paper's), `weak` (A's weak view) or `teacher` (B's "
                    "weak view)."),
       util::choice("weighting", &C::weighting,
                    {{"hard", Weighting::kHard}, {"soft", Weighting::kSoft}},
                    "`hard` (the threshold's mask) or `soft` (SoftMatch's "
                    "Gaussian weight; no threshold)."),
       util::choice("alignment", &C::alignment,
                    {{"none", Alignment::kNone},
                     {"labeled", Alignment::kLabeled},
                     {"uniform", Alignment::kUniform}},
                    "Distribution alignment of the pseudo-label "
                    "probabilities to the `labeled` pool's class shares or "
                    "to `uniform` ones (`none`: off)."),
       value("stats_momentum", &C::stats_momentum,
             "Momentum of the running estimates (freematch, soft, "
             "alignment).",
             within(0.0, 1.0)),
       util::choice(
           "dtm_on", &C::dtm_on,
           {{"labeled", DtmData::kLabeled}, {"heldout", DtmData::kHeldOut}},
           "The DTM measures the teacher on the `labeled` training "
           "images or on a `heldout` share of them."),
       value("dtm_holdout", &C::dtm_holdout,
             "Share of each class held out of training (dtm_on: heldout).",
             within(0.0, 0.9)),
       value("dtm_weak_view", &C::dtm_weak_view,
             "The DTM predicts weak views (Ada-CM) instead of clean images.")});
  return s;
}

const Section<TrainConfig>& eval_section() {
  static const Section<TrainConfig> s(
      "eval", "eval",
      {value("max_samples", &TrainConfig::eval_max,
             "Validation samples evaluated at each epoch end (0: all).",
             at_least<int64_t>(0))});
  return s;
}

}  // namespace

const Section<TrainConfig>& train_section() {
  using C = TrainConfig;
  static const Section<C> s = [] {
    Field<C> data = util::custom<C>(
        "data",
        "A data config: a path (relative to this file) or an inline map.",
        [](C& c, const YAML::Node& node, const FieldContext& ctx) {
          c.data = node.IsScalar() ? data::load_data_config(util::join_path(
                                         ctx.src.base_dir, node.Scalar()))
                                   : data::parse_data_config(node, ctx.src.file,
                                                             ctx.src.base_dir);
        },
        [](const C& c) -> std::optional<YAML::Node> {
          return data::to_yaml_node(c.data);
        });
    data.required = true;
    data.subkeys = [](const std::string& prefix) {
      return under(prefix, data::data_config_keys());
    };
    Field<C> augment = util::custom<C>(
        "augment", "The views: the keys of the Augmentation section.",
        [](C& c, const YAML::Node& node, const FieldContext& ctx) {
          c.augment = augment::parse_augment_config(node, ctx.src.file);
        },
        [](const C& c) -> std::optional<YAML::Node> {
          return augment::to_yaml_node(c.augment);
        });
    augment.subkeys = [](const std::string& prefix) {
      return under(prefix, augment::augment_config_keys());
    };
    return Section<C>(
        "the training config", "",
        {data, augment,
         util::nested<C>(
             "model", model_section(),
             [](auto& c) -> auto& { return c.model; }),
         util::nested<C>(
             "train", loop_section(), [](auto& c) -> auto& { return c.train; }),
         util::nested<C>(
             "ssl", ssl_section(), [](auto& c) -> auto& { return c.ssl; }),
         util::nested<C>(
             "eval", eval_section(), [](auto& c) -> auto& { return c; })});
  }();
  return s;
}

}  // namespace semifer::train
