#include "semifer/train/config.h"

#include <filesystem>

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
  chain.back()[std::string(parts.back())] = YAML::Load(value);
}

template <typename T>
void get(const YAML::Node& node, const char* key, T& out,
         const std::string& file) {
  if (node[key]) out = util::yaml_as<T>(node[key], file, key);
}

}  // namespace

void TrainConfig::validate() const {
  data.validate();
  augment.validate();
  SEMIFER_CHECK(train.epochs > 0 && train.steps_per_epoch > 0,
                "train.epochs and ", "train.steps_per_epoch must be positive");
  SEMIFER_CHECK(train.batch_labeled > 0,
                "train.batch_labeled must be positive");
  SEMIFER_CHECK(!ssl.enabled || train.batch_unlabeled > 0,
                "train.batch_unlabeled must be positive when ssl.enabled");
  SEMIFER_CHECK(train.lr > 0, "train.lr must be positive");
  SEMIFER_CHECK(train.threads >= 1, "train.threads must be >= 1");
  SEMIFER_CHECK(train.log_every > 0 && train.checkpoint_every > 0,
                "train.log_every and train.checkpoint_every must be positive");
  SEMIFER_CHECK(ssl.tau >= 0 && ssl.tau <= 1, "ssl.tau must lie in [0, 1]");
  SEMIFER_CHECK(ssl.mu >= 0 && ssl.mu <= 1, "ssl.mu must lie in [0, 1]");
  SEMIFER_CHECK(ssl.ema_decay >= 0 && ssl.ema_decay <= 1,
                "ssl.ema_decay must lie in [0, 1]");
  SEMIFER_CHECK(ssl.lambda_labeled >= 0 && ssl.lambda_unlabeled >= 0,
                "ssl.lambda_* must be >= 0");
}

TrainConfig load_train_config(const std::string& path,
                              const std::vector<std::string>& overrides) {
  std::error_code ec;
  SEMIFER_CHECK(fs::is_regular_file(path, ec), "training config ", path,
                " does not exist or is not a file");
  const auto bytes = util::read_file(path);
  YAML::Node root =
      util::yaml_parse(std::string(bytes.begin(), bytes.end()), path);
  SEMIFER_CHECK(root.IsMap(), path, ": a training config must be a YAML map");
  for (const auto& o : overrides) apply_override(root, o);
  util::yaml_check_keys(root,
                        {"data", "augment", "model", "train", "ssl", "eval"},
                        path, "the training config");
  const std::string base = fs::absolute(path).parent_path().string();
  TrainConfig c;
  SEMIFER_CHECK(root["data"], path,
                ": the training config needs 'data' (a data config ",
                "path or map)");
  if (root["data"].IsScalar()) {
    c.data =
        data::load_data_config(util::join_path(base, root["data"].Scalar()));
  } else {
    c.data = data::parse_data_config(root["data"], path, base);
  }
  if (root["augment"])
    c.augment = augment::parse_augment_config(root["augment"], path);
  if (const auto m = root["model"]) {
    util::yaml_check_keys(m, {"name", "weights", "dropout"}, path, "model");
    get(m, "name", c.model.name, path);
    get(m, "weights", c.model.weights, path);
    if (!c.model.weights.empty())
      c.model.weights = util::join_path(base, c.model.weights);
    get(m, "dropout", c.model.dropout, path);
  }
  if (const auto t = root["train"]) {
    util::yaml_check_keys(
        t,
        {"epochs", "steps_per_epoch", "batch_labeled", "batch_unlabeled", "lr",
         "seed", "threads", "torch_threads", "log_every", "checkpoint_every",
         "deterministic", "device", "bf16", "channels_last", "max_loss"},
        path, "train");
    get(t, "epochs", c.train.epochs, path);
    get(t, "steps_per_epoch", c.train.steps_per_epoch, path);
    get(t, "batch_labeled", c.train.batch_labeled, path);
    get(t, "batch_unlabeled", c.train.batch_unlabeled, path);
    get(t, "lr", c.train.lr, path);
    get(t, "seed", c.train.seed, path);
    get(t, "threads", c.train.threads, path);
    get(t, "torch_threads", c.train.torch_threads, path);
    get(t, "log_every", c.train.log_every, path);
    get(t, "checkpoint_every", c.train.checkpoint_every, path);
    get(t, "deterministic", c.train.deterministic, path);
    get(t, "device", c.train.device, path);
    get(t, "bf16", c.train.bf16, path);
    get(t, "channels_last", c.train.channels_last, path);
    get(t, "max_loss", c.train.max_loss, path);
  }
  if (const auto s = root["ssl"]) {
    util::yaml_check_keys(
        s,
        {"enabled", "lambda_labeled", "lambda_unlabeled", "target",
         "thresholds", "tau", "mu", "ema_decay", "dtm_per_class"},
        path, "ssl");
    get(s, "enabled", c.ssl.enabled, path);
    get(s, "lambda_labeled", c.ssl.lambda_labeled, path);
    get(s, "lambda_unlabeled", c.ssl.lambda_unlabeled, path);
    if (s["target"]) {
      const auto v = util::yaml_as<std::string>(s["target"], path, "target");
      SEMIFER_CHECK(v == "strong" || v == "weak",
                    util::yaml_where(s["target"], path),
                    ": ssl.target must be 'strong' or 'weak'");
      c.ssl.target = v == "weak" ? PseudoTarget::kWeak : PseudoTarget::kStrong;
    }
    if (s["thresholds"]) {
      const auto v =
          util::yaml_as<std::string>(s["thresholds"], path, "thresholds");
      SEMIFER_CHECK(v == "dynamic" || v == "fixed",
                    util::yaml_where(s["thresholds"], path),
                    ": ssl.thresholds must be 'dynamic' or 'fixed'");
      c.ssl.dynamic_thresholds = v == "dynamic";
    }
    get(s, "tau", c.ssl.tau, path);
    get(s, "mu", c.ssl.mu, path);
    get(s, "ema_decay", c.ssl.ema_decay, path);
    get(s, "dtm_per_class", c.ssl.dtm_per_class, path);
  }
  if (const auto e = root["eval"]) {
    util::yaml_check_keys(e, {"max_samples"}, path, "eval");
    get(e, "max_samples", c.eval_max, path);
  }
  try {
    c.validate();
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return c;
}

std::string to_yaml(const TrainConfig& c) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "classes" << YAML::Value << YAML::Flow << c.data.classes;
  y << YAML::Key << "sampling" << YAML::Value << YAML::Flow << YAML::BeginMap
    << YAML::Key << "per_class" << YAML::Value << c.data.sampling.per_class
    << YAML::Key << "leftovers_to_unlabeled" << YAML::Value
    << c.data.sampling.leftovers_to_unlabeled << YAML::Key << "seed"
    << YAML::Value << c.data.sampling.seed << YAML::EndMap;
  auto sources = [&](const char* key,
                     const std::vector<data::SourceConfig>& list) {
    y << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const auto& s : list) {
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "format" << YAML::Value
        << data::format_name(s.format) << YAML::Key << "name" << YAML::Value
        << s.name;
      const std::pair<const char*, const std::string*> paths[] = {
          {"annotations", &s.annotations},
          {"images", &s.images},
          {"csv", &s.csv},
          {"list", &s.list},
          {"root", &s.root},
          {"rec", &s.rec},
          {"idx", &s.idx},
          {"layout", &s.layout},
          {"split", &s.split}};
      for (const auto& [k, v] : paths) {
        if (!v->empty()) y << YAML::Key << k << YAML::Value << *v;
      }
      if (s.format == data::Format::kFer2013Csv)
        y << YAML::Key << "usage" << YAML::Value << s.usage;
      if (!s.subset.all()) {
        y << YAML::Key << "subset" << YAML::Value << YAML::BeginMap << YAML::Key
          << "from" << YAML::Value << s.subset.from << YAML::Key << "to"
          << YAML::Value << s.subset.to << YAML::Key << "seed" << YAML::Value
          << s.subset.seed << YAML::EndMap;
      }
      y << YAML::EndMap;
    }
    y << YAML::EndSeq;
  };
  sources("labeled", c.data.labeled);
  sources("unlabeled", c.data.unlabeled);
  sources("validation", c.data.validation);
  y << YAML::EndMap;
  const auto& a = c.augment;
  y << YAML::Key << "augment" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "size" << YAML::Value << a.size << YAML::Key << "flip_p"
    << YAML::Value << a.flip_p << YAML::Key << "translate" << YAML::Value
    << a.translate << YAML::Key << "brightness" << YAML::Value << a.brightness
    << YAML::Key << "contrast" << YAML::Value << a.contrast << YAML::Key
    << "saturation" << YAML::Value << a.saturation << YAML::Key
    << "randaugment_n" << YAML::Value << a.randaugment_n << YAML::Key
    << "randaugment_magnitude" << YAML::Value << a.randaugment_magnitude
    << YAML::Key << "randaugment_bins" << YAML::Value << a.randaugment_bins
    << YAML::Key << "affine_fill" << YAML::Value
    << static_cast<int>(a.affine_fill) << YAML::Key << "cutout" << YAML::Value
    << a.cutout << YAML::Key << "cutout_fill" << YAML::Value
    << static_cast<int>(a.cutout_fill) << YAML::Key << "mean" << YAML::Value
    << YAML::Flow << std::vector<float>(a.mean.begin(), a.mean.end())
    << YAML::Key << "std" << YAML::Value << YAML::Flow
    << std::vector<float>(a.std.begin(), a.std.end());
  y << YAML::EndMap;
  y << YAML::Key << "model" << YAML::Value << YAML::BeginMap << YAML::Key
    << "name" << YAML::Value << c.model.name << YAML::Key << "weights"
    << YAML::Value << c.model.weights << YAML::Key << "dropout" << YAML::Value
    << c.model.dropout << YAML::EndMap;
  const auto& t = c.train;
  y << YAML::Key << "train" << YAML::Value << YAML::BeginMap << YAML::Key
    << "epochs" << YAML::Value << t.epochs << YAML::Key << "steps_per_epoch"
    << YAML::Value << t.steps_per_epoch << YAML::Key << "batch_labeled"
    << YAML::Value << t.batch_labeled << YAML::Key << "batch_unlabeled"
    << YAML::Value << t.batch_unlabeled << YAML::Key << "lr" << YAML::Value
    << t.lr << YAML::Key << "seed" << YAML::Value << t.seed << YAML::Key
    << "threads" << YAML::Value << t.threads << YAML::Key << "torch_threads"
    << YAML::Value << t.torch_threads << YAML::Key << "log_every" << YAML::Value
    << t.log_every << YAML::Key << "checkpoint_every" << YAML::Value
    << t.checkpoint_every << YAML::Key << "deterministic" << YAML::Value
    << t.deterministic << YAML::Key << "device" << YAML::Value << t.device
    << YAML::Key << "bf16" << YAML::Value << t.bf16 << YAML::Key
    << "channels_last" << YAML::Value << t.channels_last << YAML::Key
    << "max_loss" << YAML::Value << t.max_loss << YAML::EndMap;
  const auto& s = c.ssl;
  y << YAML::Key << "ssl" << YAML::Value << YAML::BeginMap << YAML::Key
    << "enabled" << YAML::Value << s.enabled << YAML::Key << "lambda_labeled"
    << YAML::Value << s.lambda_labeled << YAML::Key << "lambda_unlabeled"
    << YAML::Value << s.lambda_unlabeled << YAML::Key << "target" << YAML::Value
    << (s.target == PseudoTarget::kWeak ? "weak" : "strong") << YAML::Key
    << "thresholds" << YAML::Value
    << (s.dynamic_thresholds ? "dynamic" : "fixed") << YAML::Key << "tau"
    << YAML::Value << s.tau << YAML::Key << "mu" << YAML::Value << s.mu
    << YAML::Key << "ema_decay" << YAML::Value << s.ema_decay << YAML::Key
    << "dtm_per_class" << YAML::Value << s.dtm_per_class << YAML::EndMap;
  y << YAML::Key << "eval" << YAML::Value << YAML::BeginMap << YAML::Key
    << "max_samples" << YAML::Value << c.eval_max << YAML::EndMap;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

}  // namespace semifer::train
