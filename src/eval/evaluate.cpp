#include "semifer/eval/evaluate.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "semifer/data/config.h"
#include "semifer/data/dataset.h"
#include "semifer/util/error.h"

namespace semifer::eval {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

int64_t support(const infer::ConfusionMatrix& m, int c) {
  int64_t n = 0;
  for (int p = 0; p < m.num_classes(); ++p) n += m.at(c, p);
  return n;
}

// Per-class scores, accuracy and macro F1 of one matrix, then the matrix.
std::string score_table(const infer::ConfusionMatrix& m,
                        const std::vector<std::string>& names) {
  size_t width = 5;
  for (const auto& n : names) width = std::max(width, n.size());
  int64_t largest = 0;
  for (const auto& row : m.rows())
    for (int64_t x : row) largest = std::max(largest, x);
  width = std::max(width, std::to_string(largest).size());
  const int w = static_cast<int>(width);
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-*s %8s %10s %8s %8s\n", w, "class", "F1",
                "precision", "recall", "support");
  out += buf;
  for (int c = 0; c < m.num_classes(); ++c) {
    std::snprintf(buf, sizeof buf, "  %-*s %8.4f %10.4f %8.4f %8lld\n", w,
                  names[c].c_str(), m.f1(c), m.precision(c), m.recall(c),
                  static_cast<long long>(support(m, c)));
    out += buf;
  }
  std::snprintf(
      buf, sizeof buf,
      "  accuracy %.4f, macro F1 %.4f (mean of the %d per-class F1)\n",
      m.accuracy(), m.macro_f1(), m.num_classes());
  out += buf;
  out += "  confusion matrix (rows: true class, columns: predicted class)\n";
  std::snprintf(buf, sizeof buf, "  %-*s", w, "");
  out += buf;
  for (const auto& n : names) {
    std::snprintf(buf, sizeof buf, " %*s", w, n.c_str());
    out += buf;
  }
  out += "\n";
  for (int r = 0; r < m.num_classes(); ++r) {
    std::snprintf(buf, sizeof buf, "  %-*s", w, names[r].c_str());
    out += buf;
    for (int c = 0; c < m.num_classes(); ++c) {
      std::snprintf(buf, sizeof buf, " %*lld", w,
                    static_cast<long long>(m.at(r, c)));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

nlohmann::ordered_json scores_json(const infer::ConfusionMatrix& m,
                                   const std::vector<std::string>& names) {
  nlohmann::ordered_json f1 = nlohmann::ordered_json::object(),
                         precision = nlohmann::ordered_json::object(),
                         recall = nlohmann::ordered_json::object(),
                         count = nlohmann::ordered_json::object();
  for (int c = 0; c < m.num_classes(); ++c) {
    f1[names[c]] = m.f1(c);
    precision[names[c]] = m.precision(c);
    recall[names[c]] = m.recall(c);
    count[names[c]] = support(m, c);
  }
  return {{"n", m.total()},           {"accuracy", m.accuracy()},
          {"macro_f1", m.macro_f1()}, {"per_class_f1", f1},
          {"precision", precision},   {"recall", recall},
          {"support", count},         {"confusion", m.rows()}};
}

}  // namespace

ImageSet load_split(const std::string& config_path, data::Role split,
                    const std::vector<std::string>& classes,
                    const std::string& checkpoint) {
  SEMIFER_CHECK(
      split == data::Role::kValidation || split == data::Role::kLabeled,
      "only the validation or the labeled split can be scored");
  data::DataConfig config = data::load_data_config(config_path);
  const auto want = data::LabelSpace::from_names(classes).names();
  const auto have = config.label_space().names();
  SEMIFER_CHECK(want == have, config_path, ": the classes [", join(have),
                "] differ from the classes [", join(want), "] of checkpoint ",
                checkpoint, " (same classes in the same order needed)");
  config.unlabeled.clear();
  if (split == data::Role::kValidation) {
    config.labeled.clear();
  } else {
    config.validation.clear();
  }
  SEMIFER_CHECK(
      !(split == data::Role::kValidation ? config.validation : config.labeled)
           .empty(),
      config_path, ": the data config has no ", data::role_name(split),
      " sources");
  ImageSet set;
  set.dataset = data::build_dataset(config);
  set.items = split == data::Role::kValidation ? set.dataset.validation
                                               : set.dataset.labeled;
  SEMIFER_CHECK(!set.items.empty(), config_path, ": the ",
                data::role_name(split), " sources hold no sample");
  return set;
}

EvalReport evaluate(const std::string& checkpoint,
                    const std::string& data_config,
                    const EvalOptions& options) {
  EvalReport r;
  r.checkpoint = checkpoint;
  r.data_config = data_config;
  r.split = options.split;
  r.smooth = options.smooth;
  const LoadedModel model = infer::load_model(checkpoint, options.network);
  r.network = model.network;
  r.card = model.card;
  const ImageSet set =
      load_split(data_config, options.split, r.card.classes, checkpoint);

  PredictOptions po;
  po.network = model.network;
  po.smooth = options.smooth;
  po.batch = options.batch;
  po.progress = options.progress;
  po.skip_bad = options.skip_bad;
  const Predictions p = predict(model, set, po);
  r.skipped = p.skipped;

  const int num_classes = static_cast<int>(r.card.classes.size());
  const size_t c_count = static_cast<size_t>(num_classes);
  r.matrix = infer::ConfusionMatrix(num_classes);
  if (options.smooth.window > 0)
    r.smoothed = infer::ConfusionMatrix(num_classes);
  std::vector<int> raw_labels, truth;
  for (size_t i = 0; i < p.items.size(); ++i) {
    const float* row = p.probs.data() + i * c_count;
    const int raw =
        static_cast<int>(std::max_element(row, row + c_count) - row);
    const int label = set.items[p.items[i]].label;
    r.matrix.add(label, raw);
    raw_labels.push_back(raw);
    truth.push_back(label);
    if (r.smoothed) r.smoothed->add(label, p.labels[i]);
  }
  for (const std::string& w :
       {infer::near_chance_warning(r.card, infer::network_name(r.network)),
        one_class_warning(raw_labels, r.card.classes, &truth)}) {
    if (!w.empty()) r.warnings.push_back(w);
  }
  r.videos = static_cast<int64_t>(p.videos.size());
  for (const auto& v : p.videos)
    r.video_samples += static_cast<int64_t>(v.rows.size());
  return r;
}

std::string eval_text(const EvalReport& r) {
  std::string out = "checkpoint " + r.checkpoint + ": " + r.card.model +
                    ", network " + infer::network_name(r.network) +
                    (r.network == infer::Network::kTeacher ? " (EMA teacher)"
                                                           : " (student)") +
                    ", step " + std::to_string(r.card.step) + "\n";
  out += "data " + r.data_config + ", split " + data::role_name(r.split) +
         ": " + std::to_string(r.matrix.total()) + " samples\n";
  if (!r.skipped.empty()) {
    out += std::to_string(r.skipped.size()) +
           " images could not be decoded and are left out:\n";
    for (const auto& s : r.skipped) out += "  " + s + "\n";
  }
  out += score_table(r.matrix, r.card.classes);
  if (r.smoothed) {
    out += "\nafter temporal smoothing: window " +
           std::to_string(r.smooth.window) + " frames, " +
           smooth_mode_name(r.smooth.mode) + "; " +
           std::to_string(r.video_samples) + " of " +
           std::to_string(r.matrix.total()) + " samples are frames of " +
           std::to_string(r.videos) + " videos (the others keep their " +
           "prediction)\n";
    out += score_table(*r.smoothed, r.card.classes);
  }
  return out;
}

std::string eval_json(const EvalReport& r) {
  nlohmann::ordered_json j = {{"checkpoint", r.checkpoint},
                              {"data", r.data_config},
                              {"split", data::role_name(r.split)},
                              {"network", infer::network_name(r.network)},
                              {"model", r.card.model},
                              {"step", r.card.step},
                              {"classes", r.card.classes}};
  j.update(scores_json(r.matrix, r.card.classes));
  j["skipped"] = r.skipped;
  j["warnings"] = r.warnings;
  if (r.smoothed) {
    nlohmann::ordered_json s = {{"window", r.smooth.window},
                                {"mode", smooth_mode_name(r.smooth.mode)},
                                {"videos", r.videos},
                                {"video_samples", r.video_samples}};
    s.update(scores_json(*r.smoothed, r.card.classes));
    j["smoothed"] = s;
  }
  // File names need not be UTF-8: invalid bytes become U+FFFD.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace semifer::eval
