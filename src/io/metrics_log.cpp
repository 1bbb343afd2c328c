#include "semifer/io/metrics_log.h"

#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::io {

namespace {

// ordered_json keeps the classes in the order the trainer wrote them.
using json = nlohmann::ordered_json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class LineReader {
 public:
  LineReader(const json& j, const std::string& file, int64_t line)
      : j_(j), where_(str(file, ":", line, ": ")) {}

  // A key that is absent or null (NaN and infinity are written as null)
  // is empty.
  std::optional<double> number(const json& o, const std::string& key,
                               const std::string& name) const {
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::nullopt;
    SEMIFER_CHECK(it->is_number(), where_, "'", name, "' is not a number");
    return it->get<double>();
  }
  std::optional<double> number(const std::string& key) const {
    return number(j_, key, key);
  }

  std::optional<int64_t> integer(const std::string& key) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    SEMIFER_CHECK(it->is_number_integer(), where_, "'", key,
                  "' is not an integer");
    return it->get<int64_t>();
  }

  PerClass per_class(const json& o, const std::string& key,
                     const std::string& name) const {
    PerClass out;
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return out;
    SEMIFER_CHECK(it->is_object(), where_, "'", name,
                  "' is not an object of class: value");
    for (const auto& [cls, v] : it->items()) {
      SEMIFER_CHECK(v.is_number() || v.is_null(), where_, "'", name, ".", cls,
                    "' is not a number");
      out.emplace_back(cls, v.is_null() ? kNaN : v.get<double>());
    }
    return out;
  }
  PerClass per_class(const std::string& key) const {
    return per_class(j_, key, key);
  }

  std::optional<ValidationScores> validation(const std::string& net) const {
    const auto v = j_.find("validation");
    if (v == j_.end() || v->is_null()) return std::nullopt;
    SEMIFER_CHECK(v->is_object(), where_, "'validation' is not an object");
    const auto it = v->find(net);
    if (it == v->end() || it->is_null()) return std::nullopt;
    const std::string name = "validation." + net;
    SEMIFER_CHECK(it->is_object(), where_, "'", name, "' is not an object");
    ValidationScores s;
    s.accuracy = number(*it, "accuracy", name + ".accuracy");
    s.macro_f1 = number(*it, "macro_f1", name + ".macro_f1");
    s.f1 = per_class(*it, "f1", name + ".f1");
    const auto c = it->find("confusion");
    if (c != it->end() && !c->is_null()) {
      const std::string bad = str(where_, "'", name,
                                  ".confusion' is not a square matrix of "
                                  "non-negative integer counts");
      SEMIFER_CHECK(c->is_array(), bad);
      for (const auto& row : *c) {
        SEMIFER_CHECK(row.is_array() && row.size() == c->size(), bad);
        std::vector<int64_t> counts;
        for (const auto& x : row) {
          SEMIFER_CHECK(x.is_number_integer() && x.get<int64_t>() >= 0, bad);
          counts.push_back(x.get<int64_t>());
        }
        s.confusion.push_back(std::move(counts));
      }
    }
    return s;
  }

 private:
  const json& j_;
  std::string where_;
};

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string short_reason(const std::string& what) {
  const auto end = what.find("] ");
  std::string s =
      what[0] == '[' && end != std::string::npos ? what.substr(end + 2) : what;
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

namespace {

json per_class_json(const PerClass& values) {
  json o = json::object();
  for (const auto& [name, v] : values) {
    if (std::isfinite(v)) {
      o[name] = v;
    } else {
      o[name] = nullptr;
    }
  }
  return o;
}

json scores_json(const ValidationScores& s) {
  json o = json::object();
  if (s.accuracy) o["accuracy"] = *s.accuracy;
  if (s.macro_f1) o["macro_f1"] = *s.macro_f1;
  if (!s.f1.empty()) o["f1"] = per_class_json(s.f1);
  if (!s.confusion.empty()) o["confusion"] = s.confusion;
  return o;
}

}  // namespace

PerClass per_class(const std::vector<std::string>& names,
                   const std::vector<double>& values) {
  SEMIFER_CHECK(names.size() == values.size(), "per_class: ", names.size(),
                " names but ", values.size(), " values");
  PerClass out;
  for (size_t i = 0; i < names.size(); ++i)
    out.emplace_back(names[i], values[i]);
  return out;
}

std::string format_metrics_line(const MetricsLine& m) {
  json j = json::object();
  auto number = [&](const char* key, const std::optional<double>& v) {
    if (!v) return;
    if (std::isfinite(*v)) {
      j[key] = *v;
    } else {
      j[key] = nullptr;
    }
  };
  auto classes = [&](const char* key, const PerClass& v) {
    if (!v.empty()) j[key] = per_class_json(v);
  };
  if (m.epoch) j["epoch"] = *m.epoch;
  if (m.step) j["step"] = *m.step;
  number("loss_labeled", m.loss_labeled);
  number("loss_unlabeled", m.loss_unlabeled);
  number("lr", m.lr);
  number("images_per_second", m.images_per_second);
  number("input_wait", m.input_wait);
  number("mask_rate", m.mask_rate);
  classes("mask_rate_per_class", m.mask_rate_per_class);
  classes("pseudo_label_accuracy_per_class", m.pseudo_label_accuracy_per_class);
  classes("tau", m.tau);
  classes("dtm_mean_confidence", m.dtm_mean_confidence);
  if (m.validation_a || m.validation_b) {
    json v = json::object();
    if (m.validation_a) v["A"] = scores_json(*m.validation_a);
    if (m.validation_b) v["B"] = scores_json(*m.validation_b);
    j["validation"] = v;
  }
  return j.dump();
}

std::vector<MetricsLine> parse_metrics(const std::string& text,
                                       const std::string& file) {
  std::vector<MetricsLine> out;
  int64_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool unterminated = end == std::string::npos;
    if (unterminated) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (util::trim(line).empty()) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      // A last line without its newline was cut short when the run was
      // killed mid-write: every line before it is whole.
      if (unterminated) break;
      fail(file, ":", number, ": not valid JSON: ", short_reason(e.what()));
    }
    SEMIFER_CHECK(j.is_object(), file, ":", number,
                  ": not a JSON object (expected {\"step\": ..., ...})");
    const LineReader r(j, file, number);
    MetricsLine m;
    m.line = number;
    m.epoch = r.integer("epoch");
    m.step = r.integer("step");
    m.loss_labeled = r.number("loss_labeled");
    m.loss_unlabeled = r.number("loss_unlabeled");
    m.lr = r.number("lr");
    m.images_per_second = r.number("images_per_second");
    m.input_wait = r.number("input_wait");
    m.mask_rate = r.number("mask_rate");
    m.mask_rate_per_class = r.per_class("mask_rate_per_class");
    m.pseudo_label_accuracy_per_class =
        r.per_class("pseudo_label_accuracy_per_class");
    m.tau = r.per_class("tau");
    m.dtm_mean_confidence = r.per_class("dtm_mean_confidence");
    m.validation_a = r.validation("A");
    m.validation_b = r.validation("B");
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MetricsLine> read_metrics(const std::string& path) {
  const std::vector<uint8_t> bytes = util::read_file(path);
  return parse_metrics(std::string(bytes.begin(), bytes.end()), path);
}

std::vector<Scalar> metrics_scalars(const MetricsLine& l) {
  std::vector<Scalar> out;
  auto put = [&](const std::string& tag, std::optional<double> v) {
    if (v && std::isfinite(*v)) out.emplace_back(tag, *v);
  };
  auto put_all = [&](const std::string& prefix, const PerClass& values,
                     bool skip_negative) {
    for (const auto& [name, v] : values) {
      if (!skip_negative || v >= 0) put(prefix + name, v);
    }
  };
  if (l.epoch) put("epoch", static_cast<double>(*l.epoch));
  put("loss/labeled", l.loss_labeled);
  put("loss/unlabeled", l.loss_unlabeled);
  put("lr", l.lr);
  put("images_per_second", l.images_per_second);
  put("input_wait", l.input_wait);
  put("mask_rate", l.mask_rate);
  put_all("mask_rate/", l.mask_rate_per_class, false);
  put_all("pseudo_label_accuracy/", l.pseudo_label_accuracy_per_class, true);
  put_all("tau/", l.tau, false);
  put_all("dtm_mean_confidence/", l.dtm_mean_confidence, true);
  for (const auto& [net, v] : {std::make_pair("A", &l.validation_a),
                               std::make_pair("B", &l.validation_b)}) {
    if (!*v) continue;
    const std::string prefix = std::string("validation/") + net + "/";
    put(prefix + "accuracy", (*v)->accuracy);
    put(prefix + "macro_f1", (*v)->macro_f1);
    put_all(prefix + "f1/", (*v)->f1, false);
  }
  return out;
}

std::vector<std::string> metrics_csv_columns(
    const std::vector<std::string>& classes, bool semi_supervised) {
  std::vector<std::string> c = {"step", "epoch", "loss/labeled"};
  auto per_class = [&](const std::string& prefix) {
    for (const auto& name : classes) c.push_back(prefix + name);
  };
  if (semi_supervised) c.push_back("loss/unlabeled");
  c.push_back("lr");
  c.push_back("images_per_second");
  c.push_back("input_wait");
  if (semi_supervised) {
    c.push_back("mask_rate");
    per_class("mask_rate/");
    per_class("pseudo_label_accuracy/");
    per_class("tau/");
    per_class("dtm_mean_confidence/");
  }
  for (const char* net : {"A", "B"}) {
    const std::string prefix = std::string("validation/") + net + "/";
    c.push_back(prefix + "accuracy");
    c.push_back(prefix + "macro_f1");
    per_class(prefix + "f1/");
  }
  return c;
}

std::string metrics_csv_row(const MetricsLine& line,
                            const std::vector<std::string>& columns) {
  std::map<std::string, double> values;
  for (const auto& [tag, v] : metrics_scalars(line)) values[tag] = v;
  std::ostringstream o;
  o << std::setprecision(9);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) o << ',';
    if (columns[i] == "step") {
      if (line.step) o << *line.step;
      continue;
    }
    const auto it = values.find(columns[i]);
    if (it != values.end()) o << it->second;
  }
  return o.str();
}

}  // namespace semifer::io
