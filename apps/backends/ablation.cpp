#include "backends/ablation.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "semifer/data/config.h"
#include "semifer/data/dataset.h"
#include "semifer/eval/report.h"
#include "semifer/infer/checkpoint.h"
#include "semifer/infer/classify.h"
#include "semifer/train/config.h"
#include "semifer/train/resume.h"
#include "semifer/train/state.h"
#include "semifer/train/trainer.h"
#include "semifer/util/atomic_file.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace semifer::ablation {

const std::vector<Row>& builtin_rows() {
  static const std::vector<Row> rows = {
      {"supervised", "Supervised only", {"ssl.enabled=false"}},
      {"fixed",
       "SSL, fixed threshold",
       {"ssl.enabled=true", "ssl.thresholds=fixed"}},
      {"dtm", "SSL + DTM", {"ssl.enabled=true", "ssl.thresholds=dynamic"}},
      {"flexmatch",
       "SSL, FlexMatch thresholds",
       {"ssl.enabled=true", "ssl.thresholds=flexmatch"}},
      {"freematch",
       "SSL, FreeMatch thresholds",
       {"ssl.enabled=true", "ssl.thresholds=freematch"}},
      {"softmatch",
       "SSL, SoftMatch weights",
       {"ssl.enabled=true", "ssl.weighting=soft", "ssl.alignment=uniform"}},
      {"align",
       "SSL + DTM + alignment",
       {"ssl.enabled=true", "ssl.alignment=labeled"}},
      {"heldout",
       "SSL + DTM on held-out labels",
       {"ssl.enabled=true", "ssl.dtm_on=heldout"}},
      {"weakview",
       "SSL + DTM on weak views",
       {"ssl.enabled=true", "ssl.dtm_weak_view=true"}},
      {"teacher",
       "SSL, teacher's pseudo-labels",
       {"ssl.enabled=true", "ssl.pseudo_labels=teacher"}},
      {"config", "The config's recipe", {"ssl.enabled=true"}},
  };
  return rows;
}

Row parse_row(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) {
    for (const auto& r : builtin_rows()) {
      if (r.name == spec) return r;
    }
    std::string names;
    for (const auto& r : builtin_rows())
      names += (names.empty() ? "" : ", ") + r.name;
    fail_usage("ablation: unknown row '", spec, "' (built in: ", names,
               "; or NAME:key=value;key=value)");
  }
  Row row;
  row.name = spec.substr(0, colon);
  row.label = row.name;
  if (row.name.empty() || row.name == "pretrain" ||
      row.name.find_first_of("/\\ .") != std::string::npos)
    fail_usage("ablation: row '", spec,
               "': the name must be a plain folder name other than pretrain");
  const std::string rest = spec.substr(colon + 1);
  for (const auto& part : util::split(rest, ';')) {
    const std::string o(part);
    if (o.empty()) continue;
    if (o.find('=') == std::string::npos || o.front() == '=')
      fail_usage("ablation: row '", spec, "': '", o, "' is not key=value");
    row.overrides.push_back(o);
  }
  return row;
}

void AblationConfig::validate() const {
  SEMIFER_CHECK(!config.empty() && !out_dir.empty(),
                "ablation: needs a config and --out");
  SEMIFER_CHECK(seeds >= 1, "ablation: --seeds must be at least 1");
  SEMIFER_CHECK(pretrain_epochs >= 0 && epochs >= 0,
                "ablation: epochs must not be negative");
  std::vector<std::string> names;
  for (const auto& r : rows) {
    SEMIFER_CHECK(std::find(names.begin(), names.end(), r.name) == names.end(),
                  "ablation: row '", r.name, "' is listed twice");
    names.push_back(r.name);
  }
}

namespace {

// One stage's folder and config.
struct Stage {
  std::string dir;
  std::vector<std::string> overrides;
  train::TrainConfig config;
  int64_t total = 0;
};

Stage make_stage(const AblationConfig& c, const std::string& dir,
                 std::vector<std::string> overrides) {
  Stage s;
  s.dir = dir;
  s.overrides = c.overrides;
  s.overrides.insert(s.overrides.end(), overrides.begin(), overrides.end());
  s.config = train::load_train_config(c.config, s.overrides);
  s.total = s.config.train.total_steps();
  return s;
}

std::string last_checkpoint(const std::string& dir) {
  return (fs::path(dir) / "checkpoint_last.pt").string();
}

// Refuses a finished stage whose config differs from what it would run now
// in a key a resume could not change either.
void check_same_run(const Stage& s) {
  const std::string path = last_checkpoint(s.dir);
  const std::string saved = train::TrainState::read_config(path);
  SEMIFER_CHECK(!saved.empty(), path, ": the checkpoint holds no config");
  const std::string refused =
      train::check_resume_changes(train::parse_train_config(saved, path),
                                  s.config)
          .refused;
  SEMIFER_CHECK(refused.empty(), "ablation: ", s.dir,
                " was run with another config: ", refused,
                " (use another --out, or delete that folder)");
}

// Runs a stage to its end unless it is there already; false when stopped.
bool run_stage(const AblationConfig& c, const Stage& s) {
  train::RunOptions options;
  options.run_dir = s.dir;
  options.progress = c.progress;
  options.stop_requested = c.stop_requested;
  const std::string ckpt = last_checkpoint(s.dir);
  std::error_code ec;
  if (fs::exists(ckpt, ec)) {
    if (infer::read_checkpoint_card(ckpt).step >= s.total) {
      check_same_run(s);
      return true;
    }
    options.resume = true;
  } else if (fs::exists(s.dir, ec)) {
    // Stopped before its first checkpoint: nothing to keep.
    options.overwrite = true;
  }
  if (c.progress)
    util::log_message(
        str("ablation: ", s.dir, options.resume ? " (resumed)" : ""));
  return !train::Trainer(s.config, options).run().stopped;
}

// Predictions of A and B on the validation split, cached beside the run.
struct Predictions {
  std::vector<int64_t> labels, a, b;
};

std::vector<int64_t> predict(const std::string& ckpt, infer::Network which,
                             const data::Dataset& dataset) {
  infer::LoadedModel m = infer::load_checkpoint(ckpt, which);
  const at::Tensor p =
      infer::classify(*m.model, dataset, dataset.validation, m.card.input)
          .argmax(1)
          .contiguous();
  return {p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel()};
}

Predictions evaluate(const Stage& s, const data::Dataset& dataset) {
  const std::string cache =
      (fs::path(s.dir) / "validation_predictions.json").string();
  const std::string ckpt = last_checkpoint(s.dir);
  const int64_t step = infer::read_checkpoint_card(ckpt).step;
  std::error_code ec;
  if (fs::exists(cache, ec)) {
    const auto bytes = util::read_file(cache);
    const json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (!j.is_discarded() && j.value("step", int64_t{-1}) == step &&
        j.value("validation_size", int64_t{-1}) ==
            static_cast<int64_t>(dataset.validation.size())) {
      return {j.at("labels").get<std::vector<int64_t>>(),
              j.at("A").get<std::vector<int64_t>>(),
              j.at("B").get<std::vector<int64_t>>()};
    }
  }
  Predictions p;
  for (const auto& item : dataset.validation) p.labels.push_back(item.label);
  p.a = predict(ckpt, infer::Network::kStudent, dataset);
  p.b = predict(ckpt, infer::Network::kTeacher, dataset);
  util::write_file_atomically(
      cache, json{{"step", step},
                  {"validation_size", dataset.validation.size()},
                  {"labels", p.labels},
                  {"A", p.a},
                  {"B", p.b}}
                 .dump());
  return p;
}

}  // namespace

AblationResult run_ablation(const AblationConfig& c0) {
  AblationConfig c = c0;
  const bool has_supervised =
      std::any_of(c.rows.begin(), c.rows.end(),
                  [](const Row& r) { return r.name == "supervised"; });
  if (!has_supervised) c.rows.insert(c.rows.begin(), parse_row("supervised"));
  std::stable_partition(c.rows.begin(), c.rows.end(),
                        [](const Row& r) { return r.name == "supervised"; });
  c.validate();
  fs::create_directories(c.out_dir);
  AblationResult result;
  for (int k = 0; k < c.seeds; ++k) result.seeds.push_back(c.first_seed + k);

  // Every stage of every seed, in order: the supervised stage, then the
  // rows from its network A.
  std::vector<RowResult> rows(c.rows.size() + 1);
  rows[0].row = {"pretrain", "Supervised stage (start of every row)", {}};
  for (size_t i = 0; i < c.rows.size(); ++i) rows[i + 1].row = c.rows[i];
  std::vector<std::vector<Stage>> stages(rows.size());
  for (const uint64_t seed : result.seeds) {
    const std::string base =
        (fs::path(c.out_dir) / str("seed-", seed)).string();
    std::vector<std::string> pre = {"ssl.enabled=false",
                                    str("train.seed=", seed)};
    if (c.pretrain_epochs > 0)
      pre.push_back(str("train.epochs=", c.pretrain_epochs));
    stages[0].push_back(
        make_stage(c, (fs::path(base) / "pretrain").string(), pre));
    const std::string from =
        fs::absolute(last_checkpoint(stages[0].back().dir)).string();
    for (size_t i = 0; i < c.rows.size(); ++i) {
      std::vector<std::string> o = c.rows[i].overrides;
      o.push_back("model.weights=" + from);
      o.push_back(str("train.seed=", seed));
      if (c.epochs > 0) o.push_back(str("train.epochs=", c.epochs));
      stages[i + 1].push_back(
          make_stage(c, (fs::path(base) / c.rows[i].name).string(), o));
    }
  }
  result.pretrain_steps = stages[0][0].total;
  result.steps = stages.size() > 1 ? stages[1][0].total : 0;
  for (size_t i = 2; i < stages.size(); ++i) {
    SEMIFER_CHECK(stages[i][0].total == result.steps, "ablation: row '",
                  rows[i].row.name, "' has ", stages[i][0].total,
                  " steps, the supervised row ", result.steps,
                  ": rows must run the same number of steps");
  }
  // Seed by seed, so a stopped ablation has whole seeds done.
  for (size_t k = 0; k < result.seeds.size(); ++k) {
    for (auto& row_stages : stages) {
      if (!run_stage(c, row_stages[k])) {
        result.stopped = true;
        return result;
      }
    }
  }

  // Evaluation on one validation split: every row's must be the same.
  std::map<std::string, std::shared_ptr<const data::Dataset>> datasets;
  std::vector<int64_t> labels;
  std::vector<std::vector<std::vector<int64_t>>> pred_a(rows.size()),
      pred_b(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const Stage& s : stages[i]) {
      const std::string key = data::to_yaml(s.config.data);
      auto& ds = datasets[key];
      if (!ds)
        ds = std::make_shared<const data::Dataset>(
            data::build_dataset(s.config.data));
      if (result.classes.empty()) result.classes = ds->classes.names();
      SEMIFER_CHECK(!ds->validation.empty(), "ablation: ", s.dir,
                    ": the data config has no validation split");
      const Predictions p = evaluate(s, *ds);
      if (labels.empty()) labels = p.labels;
      SEMIFER_CHECK(p.labels == labels, "ablation: ", s.dir,
                    ": its validation split differs from the other rows' "
                    "(the rows must be scored on the same samples)");
      const int nc = static_cast<int>(result.classes.size());
      rows[i].a.add_seed(labels, p.a, nc);
      rows[i].b.add_seed(labels, p.b, nc);
      pred_a[i].push_back(p.a);
      pred_b[i].push_back(p.b);
      rows[i].run_dirs.push_back(s.dir);
      if (s.config.ssl.enabled) {
        if (!rows[i].pseudo) rows[i].pseudo.emplace();
        rows[i].pseudo->add_run(s.dir);
      }
      eval::write_report(s.dir);
    }
  }
  result.validation_size = static_cast<int64_t>(labels.size());
  const int nc = static_cast<int>(result.classes.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].a.summarise(nc);
    rows[i].b.summarise(nc);
    if (i >= 2) {
      rows[i].a.difference =
          eval::paired_bootstrap(labels, pred_a[i], pred_a[1], nc, c.bootstrap);
      rows[i].b.difference =
          eval::paired_bootstrap(labels, pred_b[i], pred_b[1], nc, c.bootstrap);
    }
  }
  result.rows = std::move(rows);
  const fs::path out(c.out_dir);
  result.markdown_path = (out / "ablation.md").string();
  result.json_path = (out / "ablation.json").string();
  result.html_path = (out / "index.html").string();
  util::write_file_atomically(result.markdown_path, format_markdown(result));
  util::write_file_atomically(result.json_path, format_json(result, c));
  util::write_file_atomically(result.html_path, format_html(result, c.out_dir));
  return result;
}

}  // namespace semifer::ablation
