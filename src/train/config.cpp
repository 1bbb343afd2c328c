#include "semifer/train/config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <tuple>

#include "semifer/models/registry.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/util/yaml_fields.h"

namespace fs = std::filesystem;

namespace semifer::train {

namespace {

using util::at_least;
using util::Field;
using util::FieldContext;
using util::positive;
using util::Section;
using util::value;
using util::within;

// Applies "a.b.c=value" to the YAML tree (creating maps on the way).
void apply_override(YAML::Node root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  SEMIFER_CHECK(eq != std::string::npos && eq > 0,
                "--set expects key=value, got '", assignment, "'");
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const auto parts = util::split(key, '.');
  std::vector<YAML::Node> chain = {root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[std::string(parts[i])];
    SEMIFER_CHECK(!next.IsDefined() || next.IsNull() || next.IsMap(), "--set ",
                  key, ": '", parts[i], "' is not a section");
    if (!next.IsMap())
      chain.back()[std::string(parts[i])] = YAML::Node(YAML::NodeType::Map);
    chain.push_back(chain.back()[std::string(parts[i])]);
  }
  util::yaml_check_utf8(assignment, "--set");
  try {
    YAML::Node parsed = YAML::Load(value);
    util::yaml_reject_duplicate_keys(parsed, "--set " + assignment);
    chain.back()[std::string(parts.back())] = parsed;
  } catch (const YAML::Exception& e) {
    fail("--set ", assignment, ": not a YAML value (", e.msg, ")");
  }
}

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
             "process); else steps run eagerly, with a message."),
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

// Walks both trees together; a list of maps (the sources) of one length is
// compared entry by entry, anything else as its one-line YAML text.
void diff(const YAML::Node& a, const YAML::Node& b, const std::string& key,
          std::vector<ConfigChange>& out) {
  if (a && b && a.IsMap() && b.IsMap()) {
    std::vector<std::string> keys;
    for (const auto& kv : a) keys.push_back(kv.first.Scalar());
    for (const auto& kv : b) {
      if (!a[kv.first.Scalar()]) keys.push_back(kv.first.Scalar());
    }
    for (const auto& k : keys) diff(a[k], b[k], util::dotted(key, k), out);
    return;
  }
  if (a && b && a.IsSequence() && b.IsSequence() && a.size() == b.size() &&
      a.size() > 0 && a[0].IsMap()) {
    for (size_t i = 0; i < a.size(); ++i)
      diff(a[i], b[i], str(key, "[", i, "]"), out);
    return;
  }
  const std::string before = a ? util::yaml_text(a) : "";
  const std::string after = b ? util::yaml_text(b) : "";
  if (before != after) out.push_back({key, before, after});
}

}  // namespace

void TrainConfig::validate() const {
  data.validate();
  augment.validate();
  train_section().check(*this);
  SEMIFER_CHECK(train.epochs <= kMaxSteps / train.steps_per_epoch,
                "train.epochs x train.steps_per_epoch (", train.epochs, " x ",
                train.steps_per_epoch, ") is more than ", kMaxSteps, " steps");
  SEMIFER_CHECK(!ssl.enabled || train.batch_unlabeled > 0,
                "train.batch_unlabeled must be positive when ssl.enabled");
  SEMIFER_CHECK(train.optimizer != OptimizerKind::kSgd || !train.nesterov ||
                    train.momentum > 0,
                "train.nesterov needs a positive train.momentum");
}

bool operator==(const ModelConfig& a, const ModelConfig& b) {
  return std::tie(a.name, a.weights, a.dropout) ==
         std::tie(b.name, b.weights, b.dropout);
}

bool operator==(const DistributedConfig& a, const DistributedConfig& b) {
  return std::tie(a.backend, a.bucket_mb, a.timeout_s) ==
         std::tie(b.backend, b.bucket_mb, b.timeout_s);
}

bool operator==(const BestConfig& a, const BestConfig& b) {
  return std::tie(a.monitor, a.min_step, a.keep) ==
         std::tie(b.monitor, b.min_step, b.keep);
}

bool operator==(const LoopConfig& a, const LoopConfig& b) {
  auto tie = [](const LoopConfig& c) {
    return std::tie(
        c.epochs, c.steps_per_epoch, c.batch_labeled, c.batch_unlabeled, c.lr,
        c.optimizer, c.momentum, c.nesterov, c.weight_decay, c.lr_schedule,
        c.warmup_steps, c.clip_grad_norm, c.seed, c.threads, c.torch_threads,
        c.log_every, c.checkpoint_every, c.deterministic, c.device, c.bf16,
        c.channels_last, c.optimizer_kernels, c.views, c.cudnn_benchmark,
        c.tf32, c.cuda_graph, c.max_loss, c.best, c.distributed);
  };
  return tie(a) == tie(b);
}

bool operator==(const SslConfig& a, const SslConfig& b) {
  auto tie = [](const SslConfig& c) {
    return std::tie(c.enabled, c.lambda_labeled, c.lambda_unlabeled, c.target,
                    c.thresholds, c.tau, c.mu, c.ema_decay, c.dtm_per_class,
                    c.unlabeled_warmup, c.pseudo_labels, c.weighting,
                    c.alignment, c.stats_momentum, c.dtm_on, c.dtm_holdout,
                    c.dtm_weak_view);
  };
  return tie(a) == tie(b);
}

bool operator==(const TrainConfig& a, const TrainConfig& b) {
  return std::tie(a.data, a.augment, a.model, a.train, a.ssl, a.eval_max) ==
         std::tie(b.data, b.augment, b.model, b.train, b.ssl, b.eval_max);
}

namespace {

// Reads a training config's YAML text; `name` names it in errors and
// relative paths are relative to `base_dir`.
TrainConfig read_with(const std::string& text, const std::string& name,
                      const std::string& base_dir,
                      const std::vector<std::string>& overrides) {
  YAML::Node root = util::yaml_parse(text, name);
  SEMIFER_CHECK(root.IsMap(), name, ": a training config must be a YAML map");
  for (const auto& o : overrides) apply_override(root, o);
  TrainConfig c;
  train_section().read(root, c, {name, base_dir});
  try {
    c.validate();
  } catch (const Error& e) {
    fail(name, ": ", e.what());
  }
  return c;
}

// "FILE:LINE: message" or "FILE: message" -> "message".
std::string without_location(const std::string& message,
                             const std::string& name) {
  if (message.rfind(name + ":", 0) != 0) return message;
  size_t i = name.size() + 1;
  while (i < message.size() &&
         std::isdigit(static_cast<unsigned char>(message[i])))
    ++i;
  if (i < message.size() && message[i] == ':') ++i;
  while (i < message.size() && message[i] == ' ') ++i;
  return message.substr(i);
}

TrainConfig read_train_config(const std::string& text, const std::string& name,
                              const std::string& base_dir,
                              const std::vector<std::string>& overrides) {
  try {
    return read_with(text, name, base_dir, overrides);
  } catch (const Error&) {
    if (overrides.empty()) throw;
    // The file's own error, or the first --set that brings one in: the
    // message names that flag, not a line of the file, and is a usage error.
    read_with(text, name, base_dir, {});
    for (size_t k = 1; k <= overrides.size(); ++k) {
      try {
        read_with(
            text, name, base_dir,
            std::vector<std::string>(overrides.begin(), overrides.begin() + k));
      } catch (const Error& e) {
        const std::string what = e.what();
        if (what.rfind("--set ", 0) == 0) throw UsageError(what);
        throw UsageError(str("--set ", overrides[k - 1], ": ",
                             without_location(what, name)));
      }
    }
    throw;
  }
}

}  // namespace

TrainConfig load_train_config(const std::string& path,
                              const std::vector<std::string>& overrides) {
  std::error_code ec;
  SEMIFER_CHECK(fs::is_regular_file(path, ec), "training config ", path,
                " does not exist or is not a file");
  const auto bytes = util::read_file(path, util::kMaxConfigBytes);
  return read_train_config(std::string(bytes.begin(), bytes.end()), path,
                           fs::absolute(path).parent_path().string(),
                           overrides);
}

TrainConfig parse_train_config(const std::string& yaml,
                               const std::string& name) {
  return read_train_config(yaml, name, fs::current_path().string(), {});
}

std::string to_yaml(const TrainConfig& config) {
  YAML::Emitter out;
  out << train_section().emit(config);
  return std::string(out.c_str()) + "\n";
}

std::vector<ConfigChange> config_changes(const TrainConfig& before,
                                         const TrainConfig& after) {
  std::vector<ConfigChange> out;
  diff(train_section().emit(before), train_section().emit(after), "", out);
  return out;
}

std::string config_value(const TrainConfig& config, const std::string& key) {
  YAML::Node node = train_section().emit(config);
  for (const auto part : util::split(key, '.')) {
    if (!node.IsMap()) return "";
    // Read through a const node: operator[] on a mutable one adds the key.
    const YAML::Node next =
        static_cast<const YAML::Node&>(node)[std::string(part)];
    if (!next) return "";
    node.reset(next);
  }
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

std::vector<util::KeyDoc> train_config_keys() {
  return train_section().docs("");
}

}  // namespace semifer::train
