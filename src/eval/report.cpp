#include "semifer/eval/report.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "report_plots.h"
#include "semifer/eval/svg.h"
#include "semifer/io/metrics_log.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/util/yaml_fields.h"
#include "semifer/version.h"

namespace semifer::eval {

using io::MetricsLine;
using io::PerClass;
using io::ValidationScores;

namespace fs = std::filesystem;

using detail::fmt;
using detail::latest_validation;
using detail::missing;
using detail::step_of;

namespace {

// What the summary needs from config.yaml; every field may be missing (an
// absent or unreadable file still gives a report).
struct RunConfig {
  bool present = false;
  std::string text;
  std::string problem;  ///< why the YAML could not be read, if it could not
  std::string model;
  std::optional<bool> ssl;
  std::string thresholds;
  std::optional<int64_t> epochs, steps_per_epoch;
  std::vector<std::string> classes;
};

RunConfig read_config(const fs::path& path) {
  RunConfig c;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return c;
  const std::vector<uint8_t> bytes = util::read_file(path.string());
  c.present = true;
  c.text.assign(bytes.begin(), bytes.end());
  try {
    const YAML::Node root = YAML::Load(c.text);
    // A missing key gives an invalid node, which is false; only asking an
    // invalid node its type throws.
    auto at = [&](const char* section, const char* key) {
      if (!root.IsMap()) return YAML::Node();
      const YAML::Node s = root[section];
      return s && s.IsMap() ? s[key] : YAML::Node();
    };
    auto scalar = [](const YAML::Node& n) { return n && n.IsScalar(); };
    if (scalar(at("model", "name"))) c.model = at("model", "name").Scalar();
    if (scalar(at("ssl", "enabled"))) c.ssl = at("ssl", "enabled").as<bool>();
    if (scalar(at("ssl", "thresholds")))
      c.thresholds = at("ssl", "thresholds").Scalar();
    if (scalar(at("train", "epochs")))
      c.epochs = at("train", "epochs").as<int64_t>();
    if (scalar(at("train", "steps_per_epoch")))
      c.steps_per_epoch = at("train", "steps_per_epoch").as<int64_t>();
    const YAML::Node classes = at("data", "classes");
    if (classes && classes.IsSequence()) {
      for (const auto& n : classes) c.classes.push_back(n.as<std::string>());
    }
  } catch (const YAML::Exception& e) {
    c.problem = e.what();
  }
  return c;
}

// Whether `c` ends a plain YAML scalar in flow or block style.
bool scalar_edge(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' ||
         c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

// `text` with every plain number written at a double's full precision (16
// or more significant digits: "0.14999999999999999", as configs written
// before the key tables hold) in the shortest form that reads back as the
// same double ("0.15"). Quoted strings and comments are left as they are;
// so is every other character.
std::string shortest_numbers(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') quote = 0, comment = false;
    if (comment || quote) {
      if (c == quote) quote = 0;
      out += text[i++];
      continue;
    }
    if (c == '#' && (i == 0 || scalar_edge(text[i - 1]))) {
      comment = true;
      out += text[i++];
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() && !scalar_edge(text[end])) ++end;
    if (end == i) {
      out += text[i++];
      continue;
    }
    const std::string token = text.substr(i, end - i);
    // A number YAML reads as a float: digits, one point or an exponent.
    const bool floaty =
        token.find_first_not_of("0123456789+-.eE") == std::string::npos &&
        token.find_first_of("0123456789") != std::string::npos &&
        token.find_first_of(".eE") != std::string::npos;
    char* parsed = nullptr;
    const double v = floaty ? std::strtod(token.c_str(), &parsed) : 0.0;
    const bool number =
        floaty && parsed == token.c_str() + token.size() && std::isfinite(v);
    // Only the 16- and 17-digit texts of a double's full precision: "0.150"
    // or "1.0" as a person wrote them stay.
    int digits = 0;
    bool leading = true;
    for (char d : token.substr(0, token.find_first_of("eE"))) {
      if (d < '0' || d > '9') continue;
      leading = leading && d == '0';
      digits += leading ? 0 : 1;
    }
    std::string shorter = number && digits >= 16 ? util::shortest(v) : token;
    if (shorter.find_first_of(".e") == std::string::npos) shorter += ".0";
    out += shorter.size() < token.size() ? shorter : token;
    i = end;
  }
  return out;
}

std::string f1_table(const std::vector<MetricsLine>& lines) {
  const MetricsLine* m = latest_validation(lines);
  if (!m) return missing("no validation (the run has no validation set)");
  const ValidationScores none;
  const ValidationScores& a = m->validation_a ? *m->validation_a : none;
  const ValidationScores& b = m->validation_b ? *m->validation_b : none;
  std::vector<std::string> classes;
  for (const PerClass* f1 : {&a.f1, &b.f1}) {
    for (const auto& [cls, v] : *f1) {
      if (std::find(classes.begin(), classes.end(), cls) == classes.end())
        classes.push_back(cls);
    }
  }
  auto cell = [](const PerClass& f1, const std::string& cls) {
    for (const auto& [c, v] : f1) {
      if (c == cls && std::isfinite(v)) return fmt(v, 4);
    }
    return std::string("&ndash;");
  };
  auto opt = [](const std::optional<double>& v) {
    return v ? fmt(*v, 4) : std::string("&ndash;");
  };
  std::ostringstream o;
  o << "<table class=\"scores\" id=\"table-f1\">\n<caption>Validation F1 per "
       "class at "
    << html_escape(step_of(*m))
    << " (the latest validation)</caption>\n<thead><tr><th>class</th><th>A "
       "(student)</th><th>B (EMA teacher)</th></tr></thead>\n<tbody>\n";
  for (const auto& cls : classes) {
    o << "<tr><td>" << html_escape(cls) << "</td><td>" << cell(a.f1, cls)
      << "</td><td>" << cell(b.f1, cls) << "</td></tr>\n";
  }
  o << "</tbody>\n<tfoot><tr class=\"macro\"><th>macro F1</th><td>"
    << opt(a.macro_f1) << "</td><td>" << opt(b.macro_f1)
    << "</td></tr>\n<tr><th>accuracy</th><td>" << opt(a.accuracy) << "</td><td>"
    << opt(b.accuracy) << "</td></tr></tfoot>\n</table>\n";
  return o.str();
}

std::string best_f1(const std::vector<MetricsLine>& lines, bool teacher) {
  const MetricsLine* best = nullptr;
  double best_v = 0;
  for (const auto& m : lines) {
    const auto& v = teacher ? m.validation_b : m.validation_a;
    if (!v || !v->macro_f1 || !std::isfinite(*v->macro_f1)) continue;
    if (!best || *v->macro_f1 > best_v) best = &m, best_v = *v->macro_f1;
  }
  if (!best) return "not recorded in this run";
  std::string s = fmt(best_v, 4) + " at " + step_of(*best);
  if (best->epoch) s += " (epoch " + std::to_string(*best->epoch) + ")";
  return s;
}

std::string summary(const std::string& run_dir,
                    const std::vector<MetricsLine>& lines,
                    const RunConfig& config) {
  std::optional<int64_t> last_step;
  std::optional<double> speed;
  bool unlabeled = false;
  for (const auto& m : lines) {
    if (m.step) last_step = std::max(last_step.value_or(*m.step), *m.step);
    if (m.images_per_second) speed = m.images_per_second;
    unlabeled = unlabeled || m.loss_unlabeled || !m.tau.empty();
  }
  std::string steps = last_step ? std::to_string(*last_step) : "none logged";
  if (config.epochs && config.steps_per_epoch) {
    steps += " of " + std::to_string(*config.epochs * *config.steps_per_epoch) +
             " planned (" + std::to_string(*config.epochs) + " epochs of " +
             std::to_string(*config.steps_per_epoch) + ")";
  }
  const bool ssl = config.ssl.value_or(unlabeled);
  std::string stage =
      ssl ? "semi-supervised (pseudo-labels, EMA teacher" +
                std::string(config.thresholds.empty()
                                ? ")"
                                : ", " + config.thresholds + " thresholds)")
          : "supervised";
  const std::pair<std::string, std::string> rows[] = {
      {"run folder", run_dir},
      {"model", config.model.empty() ? "unknown (no model.name in config.yaml)"
                                     : config.model},
      {"stage", stage},
      {"steps", steps},
      {"lines in metrics.jsonl", std::to_string(lines.size())},
      {"best validation macro F1, A (student)", best_f1(lines, false)},
      {"best validation macro F1, B (EMA teacher)", best_f1(lines, true)},
      {"throughput (last line)",
       speed ? fmt(*speed, 1) + " images/s" : "not recorded in this run"}};
  std::ostringstream o;
  o << "<table class=\"summary\" id=\"summary\">\n";
  for (const auto& [k, v] : rows) {
    o << "<tr><th>" << html_escape(k) << "</th><td>" << html_escape(v)
      << "</td></tr>\n";
  }
  o << "</table>\n";
  return o.str();
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, "DejaVu Sans", Arial, sans-serif; color: #222;
       max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; text-align: left; }
table.scores td { text-align: right; font-variant-numeric: tabular-nums; }
table.scores td:first-child { text-align: left; }
table.scores tfoot { font-weight: bold; }
caption { text-align: left; color: #555; padding-bottom: 0.3em;
          white-space: nowrap; }
figure.plot { margin: 0.8em 0; }
figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; max-width: 760px; }
p.missing { color: #8a6d00; background: #fff8e1; padding: 0.5em 0.8em; }
pre { background: #f6f6f6; padding: 0.8em; font-size: 0.85em;
      white-space: pre-wrap; overflow-wrap: anywhere; }
footer { color: #777; font-size: 0.85em; margin-top: 3em; }
)";

}  // namespace

std::string render_report(const std::string& run_dir) {
  std::error_code ec;
  SEMIFER_CHECK(fs::exists(run_dir, ec), "cannot read run folder ", run_dir,
                ": no such folder");
  SEMIFER_CHECK(fs::is_directory(run_dir, ec), "cannot read run folder ",
                run_dir, ": not a folder");
  const fs::path metrics = fs::path(run_dir) / "metrics.jsonl";
  SEMIFER_CHECK(fs::is_regular_file(metrics, ec), "cannot read ",
                metrics.string(),
                ": no such file (is this a folder written by semifer train?)");
  const std::vector<MetricsLine> lines = io::read_metrics(metrics.string());
  const RunConfig config = read_config(fs::path(run_dir) / "config.yaml");

  const std::pair<const char*, const char*> sections[] = {
      {"losses", "Training losses"},
      {"f1", "Validation macro F1"},
      {"tau", "Dynamic thresholds"},
      {"mask-rate", "Mask rate"},
      {"pseudo-accuracy", "Pseudo-label accuracy"},
      {"confusion", "Confusion matrix"},
      {"per-class-f1", "Per-class F1"},
      {"configuration", "Configuration"}};
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, "
       "initial-scale=1\">\n<title>semifer report: "
    << html_escape(run_dir) << "</title>\n<style>" << kStyle
    << "</style>\n</head>\n<body>\n<h1>Training report</h1>\n"
    << summary(run_dir, lines, config) << "<nav>";
  for (const auto& [id, title] : sections)
    o << "<a href=\"#" << id << "\">" << title << "</a> ";
  o << "</nav>\n";
  auto section = [&](size_t i, const std::string& body) {
    o << "<section id=\"" << sections[i].first << "\">\n<h2>"
      << sections[i].second << "</h2>\n"
      << body << "</section>\n";
  };
  section(0, detail::losses_section(lines));
  section(1, detail::f1_section(lines));
  section(2, detail::tau_section(lines));
  section(3, detail::mask_section(lines));
  section(4, detail::pseudo_accuracy_section(lines));
  section(5, detail::confusion_section(lines, config.classes));
  section(6, f1_table(lines));
  std::string cfg;
  if (!config.present) {
    cfg = missing("config.yaml is absent from the run folder");
  } else {
    if (!config.problem.empty()) {
      cfg = "<p class=\"missing\">config.yaml could not be read as YAML (" +
            html_escape(config.problem) + "); its text:</p>\n";
    }
    cfg += "<pre id=\"config\">" + html_escape(shortest_numbers(config.text)) +
           "</pre>\n";
  }
  section(7, cfg);
  o << "<footer>Written by semifer " << kVersion
    << " (<code>semifer report</code>) from "
    << html_escape((fs::path(run_dir) / "metrics.jsonl").string())
    << " and config.yaml. Self-contained: no script, nothing is fetched."
    << "</footer>\n</body>\n</html>\n";
  return o.str();
}

std::string write_report(const std::string& run_dir, const std::string& out) {
  const std::string html = render_report(run_dir);
  const std::string path =
      out.empty() ? (fs::path(run_dir) / "report.html").string() : out;
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  util::write_text(path, html);
  return path;
}

}  // namespace semifer::eval
