// The training config's key table: load -> to_yaml -> load round trip with
// every key set, docs/config.md against the table, config_changes, errors.
#include "semifer/train/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "semifer/util/strings.h"
#include "semifer/util/yaml.h"
#include "semifer/util/yaml_fields.h"
#include "support/support.h"

namespace semifer::train {

namespace {

using test::expect_error;
using test::TempDir;
using test::write_text_file;

// Every key of every section at a value other than its default, and sources
// of every format with all their optional keys.
constexpr const char* kData = R"(classes: [Happiness, Neutral, sad]
sampling: {per_class: 12, leftovers_to_unlabeled: false, seed: 5}
labeled:
  - format: affwild2
    name: aff
    annotations: aw/ann
    images: aw/img
    unannotated_to_unlabeled: false
    on_error: skip
    subset: {from: 0.1, to: 0.6, seed: 7}
    leftovers_to_unlabeled: false
  - {format: affectnet, csv: an/training.csv, images: an/img, crop_face: true,
     leftovers_to_unlabeled: true}
  - {format: expw, list: ew/label.lst, images: ew/origin}
  - {format: rafdb, list: raf/list.txt, images: raf/aligned, split: train}
  - format: fer2013_csv
    csv: fer/fer2013.csv
    usage: PublicTest
    on_error: {annotations: skip, images: fail}
  - {format: ferplus, csv: fp/label.csv, images: fp/FER2013Train}
unlabeled:
  - {format: folder, root: pool, layout: flat}
  - {format: recordio, rec: rec/train.rec, idx: /abs/train.idx}
validation:
  - {format: csv, csv: val/list.csv, root: val/images}
)";

constexpr const char* kTrain = R"(data: data/data.yaml
augment:
  size: 112
  flip_p: 0.25
  translate: 0.0625
  brightness: 0.1
  contrast: 0.2
  saturation: 0.3
  randaugment_n: 3
  randaugment_magnitude: 7
  randaugment_bins: 15
  affine_fill: 128
  cutout: 0.25
  cutout_fill: 64
  mean: [0.5, 0.4, 0.3]
  std: [0.2, 0.3, 0.1]
model: {name: resnet18, weights: w/start.pth, dropout: 0.3}
train:
  epochs: 3
  steps_per_epoch: 7
  batch_labeled: 5
  batch_unlabeled: 9
  lr: 0.00012345678901234
  optimizer: sgd
  momentum: 0.8
  nesterov: false
  weight_decay: 0.0005
  lr_schedule: cosine
  warmup_steps: 20
  clip_grad_norm: 5
  seed: 11
  threads: 3
  torch_threads: 2
  log_every: 4
  checkpoint_every: 6
  deterministic: true
  device: cpu
  bf16: false
  channels_last: false
  optimizer_kernels: loop
  views: device
  cudnn_benchmark: false
  tf32: false
  cuda_graph: true
  max_loss: 250.5
  best: {monitor: a, min_step: 7, keep: 3}
  distributed: {backend: gloo, bucket_mb: 4.5, timeout_s: 12}
ssl:
  enabled: false
  lambda_labeled: 0.5
  lambda_unlabeled: 0.25
  target: weak
  thresholds: fixed
  tau: 0.7
  mu: 0.8
  ema_decay: 0.99
  dtm_per_class: 0
  unlabeled_warmup: 300
  pseudo_labels: teacher
  weighting: soft
  alignment: labeled
  stats_momentum: 0.99
  dtm_on: heldout
  dtm_holdout: 0.2
  dtm_weak_view: true
eval: {max_samples: 100}
)";

std::map<std::string, util::KeyDoc> documented() {
  std::map<std::string, util::KeyDoc> out;
  for (const auto& k : train_config_keys()) {
    EXPECT_TRUE(out.emplace(k.key, k).second) << "listed twice: " << k.key;
  }
  return out;
}

bool has_subkeys(const std::map<std::string, util::KeyDoc>& docs,
                 const std::string& key) {
  const auto it = docs.upper_bound(key + ".");
  return it != docs.end() && it->first.rfind(key + ".", 0) == 0;
}

// The values a written config gives each documented key: a source's keys
// count under "data.source.KEY" or, for a format's own, under
// "data.source.FORMAT.KEY". A map is a section (recursed into) unless it is
// a documented key's value (`on_error`).
void collect(const YAML::Node& node, const std::string& key,
             const std::map<std::string, util::KeyDoc>& docs,
             std::map<std::string, std::vector<std::string>>& out) {
  const bool leaf = docs.count(key) && !has_subkeys(docs, key);
  if (!node.IsMap() || docs.count(key))
    out[key].push_back(util::yaml_text(node));
  if (node.IsMap() && !leaf) {
    for (const auto& kv : node) {
      collect(kv.second, util::dotted(key, kv.first.Scalar()), docs, out);
    }
  }
  if (key != "data.labeled" && key != "data.unlabeled" &&
      key != "data.validation")
    return;
  for (const auto& source : node) {
    const std::string format = source["format"].Scalar();
    for (const auto& kv : source) {
      const std::string own = "data.source." + format + "." + kv.first.Scalar();
      collect(kv.second,
              docs.count(own) ? own : "data.source." + kv.first.Scalar(), docs,
              out);
    }
  }
}

std::string setup(const TempDir& tmp) {
  write_text_file(tmp.file("cfg/data/data.yaml"), kData);
  return write_text_file(tmp.file("cfg/train.yaml"), kTrain);
}

}  // namespace

TEST(TrainConfig, RoundTripsEveryKeyAtANonDefaultValue) {
  TempDir tmp;
  const TrainConfig loaded = load_train_config(setup(tmp));
  const std::string text = to_yaml(loaded);

  // The written config gives every documented key a value, and one that is
  // not the default, so a key that to_yaml dropped (or that this test does
  // not set) fails here, whatever operator== compares.
  const auto docs = documented();
  std::map<std::string, std::vector<std::string>> written;
  collect(YAML::Load(text), "", docs, written);
  for (const auto& [key, doc] : docs) {
    const auto it = written.find(key);
    ASSERT_NE(it, written.end()) << "to_yaml wrote no '" << key << "'";
    bool differs = false;
    for (const auto& v : it->second) differs |= v != doc.default_value;
    EXPECT_TRUE(differs) << key << " is only ever its default '"
                         << doc.default_value << "'; set it in the test";
  }
  for (const auto& [key, values] : written) {
    EXPECT_TRUE(docs.count(key))
        << "to_yaml wrote undocumented '" << key << "'";
  }

  // Paths were resolved to absolute ones, so the copy in a run folder
  // elsewhere reads back the same config.
  EXPECT_EQ(loaded.data.labeled[0].annotations, tmp.file("cfg/data/aw/ann"));
  EXPECT_EQ(loaded.data.unlabeled[1].idx, "/abs/train.idx");
  EXPECT_EQ(loaded.model.weights, tmp.file("cfg/w/start.pth"));
  const TrainConfig again = load_train_config(
      write_text_file(tmp.file("elsewhere/run/config.yaml"), text));
  EXPECT_TRUE(again == loaded) << text;
  EXPECT_TRUE(config_changes(loaded, again).empty());
  EXPECT_EQ(to_yaml(again), text);
  // Spot checks that the values are the ones written, not just equal.
  EXPECT_EQ(again.data.classes[2], "sad");
  EXPECT_TRUE(again.data.labeled[1].crop_face);
  EXPECT_FALSE(again.data.labeled[0].unannotated_to_unlabeled);
  EXPECT_EQ(again.data.labeled[0].leftovers_to_unlabeled, 0);
  EXPECT_EQ(again.data.labeled[1].leftovers_to_unlabeled, 1);
  EXPECT_EQ(again.data.labeled[2].leftovers_to_unlabeled, -1);
  EXPECT_EQ(again.data.labeled[0].on_annotation_error, data::OnError::kSkip);
  EXPECT_EQ(again.data.labeled[4].on_image_error, data::OnError::kFail);
  EXPECT_DOUBLE_EQ(again.data.labeled[0].subset.to, 0.6);
  EXPECT_EQ(again.train.lr, 0.00012345678901234);
  EXPECT_EQ(again.augment.affine_fill, 128);
  EXPECT_EQ(again.ssl.target, PseudoTarget::kWeak);
  EXPECT_EQ(again.ssl.thresholds, ThresholdPolicy::kFixed);
  EXPECT_EQ(again.train.optimizer, OptimizerKind::kSgd);
  EXPECT_EQ(again.ssl.alignment, Alignment::kLabeled);
  EXPECT_EQ(again.eval_max, 100);
}

TEST(TrainConfig, DefaultsRoundTripAndReadWell) {
  TempDir tmp;
  const std::string path = write_text_file(
      tmp.file("train.yaml"), "data: {labeled: [{format: folder, root: x}]}\n");
  const TrainConfig loaded = load_train_config(path);
  TrainConfig expected;
  expected.data.labeled.resize(1);
  expected.data.labeled[0].root = tmp.file("x");
  expected.data.labeled[0].name = "folder#1";
  EXPECT_TRUE(loaded == expected);
  const std::string text = to_yaml(loaded);
  EXPECT_NE(text.find("lr: 0.0005\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tau: 0.95\n"), std::string::npos) << text;
  EXPECT_NE(text.find("on_error: {annotations: fail, images: skip}"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("weights"), std::string::npos) << text;
  EXPECT_TRUE(load_train_config(write_text_file(tmp.file("run/config.yaml"),
                                                text)) == loaded);
}

// docs/config.md's tables list exactly the keys of the table in the code
// (first column; in "Keys per format", format and key), with the defaults
// the code has where a row writes one value per key.
TEST(TrainConfig, DocsTablesListExactlyTheKeys) {
  const std::string doc_path =
      std::string(SEMIFER_SOURCE_DIR) + "/docs/config.md";
  const auto lines = util::read_lines(doc_path);
  auto ticked = [](const std::string& cell) {
    std::vector<std::string> out;
    size_t at = 0;
    while ((at = cell.find('`', at)) != std::string::npos) {
      const size_t end = cell.find('`', at + 1);
      if (end == std::string::npos) break;
      out.push_back(cell.substr(at + 1, end - at - 1));
      at = end + 1;
    }
    return out;
  };
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    for (const auto& c : util::split(line, '|'))
      out.emplace_back(util::trim(c));
    return std::vector<std::string>(out.begin() + 1, out.end() - 1);
  };
  const auto docs = documented();
  std::set<std::string> listed;
  std::string prefix, format;
  std::vector<std::string> header;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("## Data config", 0) == 0) prefix = "data.";
    if (line.rfind("### A source", 0) == 0) prefix = "data.source.";
    if (line.rfind("## Augmentation", 0) == 0) prefix = "augment.";
    if (line.rfind("## Training config", 0) == 0) prefix = "";
    if (line.rfind("| ", 0) != 0) continue;
    if (i + 1 < lines.size() && lines[i + 1].rfind("| ---", 0) == 0) {
      header = cells(line);
      ++i;
      continue;
    }
    const auto row = cells(line);
    ASSERT_GE(row.size(), 3u) << line;
    std::vector<std::string> keys;
    std::string defaults;
    if (header.size() >= 2 && header[0] == "format" && header[1] == "key") {
      if (!row[0].empty()) format = ticked(row[0]).at(0);
      for (const auto& k : ticked(row[1]))
        keys.push_back(prefix + format + "." + k);
      defaults = row[2];
    } else {
      for (const auto& k : ticked(row[0])) keys.push_back(prefix + k);
      defaults = row[1];
    }
    ASSERT_FALSE(keys.empty()) << doc_path << ": a row without a key: " << line;
    auto values = ticked(defaults);
    if (values.size() == 1 && defaults.find(" each") != std::string::npos)
      values.assign(keys.size(), values[0]);
    for (size_t k = 0; k < keys.size(); ++k) {
      EXPECT_TRUE(listed.insert(keys[k]).second) << "listed twice: " << keys[k];
      const auto it = docs.find(keys[k]);
      if (it == docs.end()) {
        ADD_FAILURE() << doc_path << " lists '" << keys[k]
                      << "', which no config reads";
        continue;
      }
      const util::KeyDoc& d = it->second;
      if (d.required) {
        EXPECT_NE(defaults.find("required"), std::string::npos) << keys[k];
      }
      if (values.size() != keys.size() || d.default_value.empty()) continue;
      const auto written = util::parse_double(values[k]);
      const auto actual = util::parse_double(d.default_value);
      if (written && actual) {
        EXPECT_DOUBLE_EQ(*written, *actual) << keys[k] << " default";
      } else {
        EXPECT_EQ(values[k], d.default_value) << keys[k] << " default";
      }
    }
  }
  for (const auto& [key, doc] : docs) {
    EXPECT_TRUE(listed.count(key))
        << doc_path << " does not list '" << key << "' (" << doc.doc << ")";
  }
}

TEST(TrainConfig, ChangesNameTheKeysThatDiffer) {
  TrainConfig before;
  before.data.labeled.resize(1);
  before.data.labeled[0].root = "/data/faces";
  before.data.labeled[0].name = "faces";
  EXPECT_TRUE(config_changes(before, before).empty());

  TrainConfig after = before;
  after.train.lr = 1e-3;
  std::swap(after.data.classes[0], after.data.classes[1]);
  auto changes = config_changes(before, after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].key, "data.classes");
  EXPECT_EQ(changes[0].before.rfind("[Neutral, Anger,", 0), 0u)
      << changes[0].before;
  EXPECT_EQ(changes[0].after.rfind("[Anger, Neutral,", 0), 0u)
      << changes[0].after;
  EXPECT_EQ(changes[1].key, "train.lr");
  EXPECT_EQ(changes[1].before, "0.0005");
  EXPECT_EQ(changes[1].after, "0.001");

  after = before;
  after.data.labeled[0].root = "/data/other";
  after.data.labeled[0].subset.to = 0.5;
  after.model.weights = "/w.pth";
  changes = config_changes(before, after);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].key, "data.labeled[0].root");
  EXPECT_EQ(changes[1].key, "data.labeled[0].subset.to");
  EXPECT_EQ(changes[1].after, "0.5");
  EXPECT_EQ(changes[2].key, "model.weights");
  EXPECT_EQ(changes[2].before, "");
  EXPECT_EQ(changes[2].after, "/w.pth");

  after = before;
  after.data.labeled.push_back(before.data.labeled[0]);
  changes = config_changes(before, after);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "data.labeled");
}

// A training config written to t.yaml in a fresh folder and loaded with
// --set overrides: `load(text, {"train.lr=1"})`.
struct ConfigFile {
  TempDir tmp;
  TrainConfig operator()(const std::string& text,
                         const std::vector<std::string>& overrides = {}) const {
    return load_train_config(write_text_file(tmp.file("t.yaml"), text),
                             overrides);
  }
};
constexpr const char* kOneSource =
    "data: {labeled: [{format: folder, root: x}]}\n";

TEST(TrainConfig, ErrorsNameFileAndLine) {
  ConfigFile load;
  const std::string data = kOneSource;
  expect_error([&] { load(data + "train:\n  epochs: 2\n  colour: red\n"); },
               {"t.yaml:4", "unknown key 'colour' in train",
                "known keys: epochs, steps_per_epoch"});
  expect_error([&] { load(data + "trian: {}\n"); },
               {"t.yaml:2", "unknown key 'trian' in the training config",
                "did you mean 'train'?",
                "known keys: data, augment, model, train, ssl, eval"});
  expect_error(
      [&] {
        load("data:\n  labeled:\n    - {format: folder, root: x, lyout: a}\n");
      },
      {"t.yaml:3", "unknown key 'lyout'", "(format folder)",
       "did you mean 'layout'?"});
  expect_error(
      [&] { load("data:\n  labeled: []\n  lables: []\n"); },
      {"t.yaml:3", "unknown key 'lables' in the data config", "known keys"});
  expect_error(
      [&] { load(data + "augment: {sise: 3}\n"); },
      {"t.yaml:2", "unknown key 'sise' in augment", "did you mean 'size'?"});
  // Nothing close: no guess.
  try {
    load(data + "train:\n  zzzzzzzz: 1\n");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos)
        << e.what();
  }
  expect_error([&] { load("model: {name: smallnet}\n"); },
               {"t.yaml:1", "needs 'data'"});
  expect_error(
      [&] { load(data + "ssl:\n  thresholds: sometimes\n"); },
      {"t.yaml:3",
       "ssl.thresholds must be 'dynamic', 'fixed', 'flexmatch' or 'freematch'",
       "sometimes"});
  expect_error([&] { load(data + "train: {lr: -1}\n"); },
               {"t.yaml:2", "train.lr must be positive"});
  expect_error([&] { load(data + "train: {epochs: many}\n"); },
               {"t.yaml:2", "train.epochs", "wrong type"});
  // An override's error names the flag, not a line of the file.
  expect_error([&] { load(data, {"ssl.tau=2"}); },
               {"--set ssl.tau=2: ", "ssl.tau must lie in [0, 1]"});
  expect_error([&] { load(data, {"ssl.colour=red"}); },
               {"--set ssl.colour=red: ", "unknown key 'colour' in ssl"});
  expect_error([&] { load(data + "augment: {translate: 1.5}\n"); },
               {"t.yaml:2", "augment.translate"});
  expect_error(
      [&] {
        load(data + "ssl: {enabled: true}\ntrain: {batch_unlabeled: 0}\n");
      },
      {"t.yaml", "train.batch_unlabeled must be positive"});
}

// Issue 16, items 1, 2, 9 and 11: counts and thread numbers bounded where
// the config is read, repeated keys and non-finite numbers refused, each
// with the file and line (or the --set that brought it in).
TEST(TrainConfig, BoundsCountsThreadsAndRefusesRepeatsAndNonFinite) {
  ConfigFile load;
  const std::string data = kOneSource;
  // 2^61 per class overflowed the epoch to 0 (SIGFPE); 10^10 was bad_alloc.
  expect_error(
      [&] {
        load(
            "data:\n  sampling: {per_class: 2305843009213693952}\n"
            "  labeled: [{format: folder, root: x}]\n");
      },
      {"t.yaml:2", "sampling.per_class must lie in [1, 10000000]"});
  // epochs x steps_per_epoch overflowing int64 trained 0 steps with rc 0.
  expect_error(
      [&] {
        load(data,
             {"train.epochs=4611686018427387904", "train.steps_per_epoch=4"});
      },
      {"train.epochs x train.steps_per_epoch", "is more than 1000000000000"});
  expect_error([&] { load(data + "train: {threads: 1000}\n"); },
               {"t.yaml:2", "train.threads must lie in [1, 256]"});
  expect_error([&] { load(data, {"train.torch_threads=1000"}); },
               {"--set train.torch_threads=1000", "must lie in [0, 256]"});
  expect_error([&] { load(data + "train: {batch_labeled: 100000000}\n"); },
               {"t.yaml:2", "train.batch_labeled must lie in [1, 65536]"});
  // The first of two equal keys silently won.
  expect_error([&] { load(data + "train:\n  lr: 0.1\n  lr: 0.2\n"); },
               {"t.yaml:4", "duplicate key 'lr'", "first at line 3"});
  expect_error(
      [&] { load(data + "model: {name: smallnet, name: resnet18}\n"); },
      {"t.yaml:2", "duplicate key 'name'", "(first at line 2 column 9)"});
  // .nan trained to the end and wrote checkpoints eval could not read.
  expect_error([&] { load(data + "model: {dropout: .nan}\n"); },
               {"t.yaml:2", "'model.dropout' must be a finite number", ".nan"});
  expect_error([&] { load(data, {"train.lr=.inf"}); },
               {"--set train.lr=.inf", "must be a finite number"});
  expect_error([&] { load(data + "model: {dropout: 5}\n"); },
               {"t.yaml:2", "model.dropout must be below 1"});
  expect_error([&] { load(data, {"train.lr=[1"}); },
               {"--set train.lr=[1: not a YAML value"});
  // Bytes that are not UTF-8 came back from to_yaml as U+FFFD: another
  // path (found by the data_config fuzz target).
  expect_error([&] { load(data + "train: {lr: 0.1}\n# caf\xe9\n"); },
               {"t.yaml:3", "not UTF-8 text (byte 0xE9 at column 6)"});
  expect_error([&] { load(data, {"run.name=o\xf3\xff"}); },
               {"--set", "not UTF-8 text (byte 0xF3 at column 11)"});
  // A config file is small: a huge one is refused before yaml-cpp takes
  // 60 times its size.
  const std::string big = load.tmp.file("big.yaml");
  {
    std::string text = data + "#";
    text.append(util::kMaxConfigBytes, 'x');
    write_text_file(big, text);
  }
  expect_error([&] { load_train_config(big); },
               {"big.yaml", "more than the limit of 4194304"});
}

TEST(TrainConfig, ValidateNamesTheKey) {
  TrainConfig c;
  c.data.labeled.resize(1);
  c.data.labeled[0].root = "/x";
  c.validate();
  c.ssl.ema_decay = 1.5;
  expect_error([&] { c.validate(); }, {"ssl.ema_decay must lie in [0, 1]"});
  c.ssl.ema_decay = 0.9;
  c.data.labeled[0].subset.from = 0.7;
  c.data.labeled[0].subset.to = 0.2;
  expect_error([&] { c.validate(); }, {"subset needs 0 <= from < to <= 1"});
}

}  // namespace semifer::train

namespace semifer::test {

// The FER2013 presets (experiments/fer2013, docs/results.md): the tuned one
// is the paper's config with exactly the recipe keys the search chose.
TEST(TrainConfig, TheFer2013PresetsDifferOnlyInTheTunedKeys) {
  const std::string dir =
      std::string(SEMIFER_SOURCE_DIR) + "/experiments/fer2013/";
  const auto paper = train::load_train_config(dir + "train.yaml");
  const auto tuned = train::load_train_config(dir + "tuned.yaml");
  std::vector<std::string> keys;
  for (const auto& c : train::config_changes(paper, tuned))
    keys.push_back(c.key);
  EXPECT_EQ(keys,
            std::vector<std::string>({"ssl.pseudo_labels", "ssl.alignment"}));
  EXPECT_EQ(tuned.ssl.pseudo_labels, train::PseudoSource::kTeacher);
  EXPECT_EQ(tuned.ssl.alignment, train::Alignment::kLabeled);
  // The few-labels preset: the tuned recipe with FreeMatch's thresholds on
  // the 2%-labeled split.
  const auto few = train::load_train_config(dir + "few_labels.yaml");
  keys.clear();
  for (const auto& c : train::config_changes(tuned, few)) keys.push_back(c.key);
  EXPECT_EQ(keys, std::vector<std::string>({"data.labeled[0].subset.to",
                                            "data.unlabeled[0].subset.from",
                                            "ssl.thresholds"}));
  EXPECT_DOUBLE_EQ(few.data.labeled[0].subset.to, 0.17);
  EXPECT_DOUBLE_EQ(few.data.unlabeled[0].subset.from, 0.17);
  EXPECT_EQ(few.ssl.thresholds, train::ThresholdPolicy::kFreeMatch);
}

}  // namespace semifer::test
