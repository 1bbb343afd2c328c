#include "semifer/train/config.h"

#include <cctype>
#include <filesystem>
#include <tuple>

#include "config_keys.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/util/yaml.h"

namespace fs = std::filesystem;

namespace semifer::train {

namespace {

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
