// The ablation's scores over seeds and the tables they are written as
// (OUT/ablation.md, ablation.json, index.html); running the stages is
// ablation.cpp's.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backends/ablation.h"
#include "semifer/eval/svg.h"
#include "semifer/infer/metrics.h"
#include "semifer/io/metrics_log.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace semifer::ablation {

namespace {

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

std::string pct(double v, int digits = 1) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << 100 * v;
  return o.str();
}

json net_json(const NetScores& n) {
  json j = {{"macro_f1", n.macro_f1},
            {"accuracy", n.accuracy},
            {"f1", n.f1},
            {"macro_f1_mean", n.macro_mean},
            {"macro_f1_std", n.macro_std},
            {"f1_mean", n.f1_mean},
            {"accuracy_mean", n.accuracy_mean}};
  if (n.difference) {
    j["difference"] = {{"estimate", n.difference->estimate},
                       {"low", n.difference->low},
                       {"high", n.difference->high}};
  }
  return j;
}

}  // namespace

std::string format_json(const AblationResult& r, const AblationConfig& c) {
  json rows = json::array();
  for (const auto& row : r.rows) {
    json j = {{"name", row.row.name},           {"label", row.row.label},
              {"overrides", row.row.overrides}, {"run_dirs", row.run_dirs},
              {"A", net_json(row.a)},           {"B", net_json(row.b)}};
    if (row.pseudo) {
      j["pseudo_labels"] = {{"mask_rate", row.pseudo->mask_rate},
                            {"accuracy", row.pseudo->accuracy},
                            {"tau", row.pseudo->tau}};
    }
    rows.push_back(j);
  }
  return json{{"config", fs::absolute(c.config).string()},
              {"overrides", c.overrides},
              {"classes", r.classes},
              {"seeds", r.seeds},
              {"validation_size", r.validation_size},
              {"pretrain_steps", r.pretrain_steps},
              {"steps", r.steps},
              {"bootstrap",
               {{"resamples", c.bootstrap.resamples},
                {"level", c.bootstrap.level},
                {"seed", c.bootstrap.seed}}},
              {"rows", rows}}
             .dump(2) +
         "\n";
}

std::string format_html(const AblationResult& r, const std::string& out_dir) {
  std::ostringstream h;
  h << "<!doctype html><html><head><meta charset=\"utf-8\"><title>semifer "
       "ablation</title><style>body{font-family:sans-serif;margin:2em}"
       "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
       "padding:4px 8px;text-align:right}td:first-child{text-align:left}"
       "</style></head><body><h1>Ablation</h1><p>"
    << r.seeds.size() << (r.seeds.size() == 1 ? " seed, " : " seeds, ")
    << r.validation_size
    << " validation samples; network B (EMA teacher), macro F1 in %.</p>"
       "<table><tr><th>row</th><th>macro F1</th><th>difference to "
       "supervised [95% interval]</th><th>runs</th></tr>";
  for (const auto& row : r.rows) {
    h << "<tr><td>" << eval::html_escape(row.row.label) << "</td><td>"
      << pct(row.b.macro_mean, 2) << " &plusmn; " << pct(row.b.macro_std, 2)
      << "</td><td>";
    if (row.b.difference) {
      h << pct(row.b.difference->estimate, 2) << " ["
        << pct(row.b.difference->low, 2) << ", "
        << pct(row.b.difference->high, 2) << "]";
    }
    h << "</td><td>";
    for (size_t k = 0; k < row.run_dirs.size(); ++k) {
      const std::string rel =
          fs::relative(fs::path(row.run_dirs[k]) / "report.html", out_dir)
              .string();
      h << "<a href=\"" << eval::html_escape(rel) << "\">seed " << r.seeds[k]
        << "</a> ";
    }
    h << "</td></tr>";
  }
  h << "</table><p>ablation.md and ablation.json hold every number.</p>"
       "</body></html>\n";
  return h.str();
}

void NetScores::add_seed(const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& pred, int num_classes) {
  infer::ConfusionMatrix m(num_classes);
  m.add(labels, pred);
  macro_f1.push_back(m.macro_f1());
  accuracy.push_back(m.accuracy());
  std::vector<double> per_class;
  for (int c = 0; c < num_classes; ++c) per_class.push_back(m.f1(c));
  f1.push_back(per_class);
}

void NetScores::summarise(int num_classes) {
  macro_mean = mean(macro_f1);
  macro_std = sample_std(macro_f1);
  accuracy_mean = mean(accuracy);
  f1_mean.assign(static_cast<size_t>(num_classes), 0.0);
  for (const auto& f : f1) {
    for (int c = 0; c < num_classes; ++c)
      f1_mean[c] += f[c] / static_cast<double>(f1.size());
  }
}

void PseudoStats::add_run(const std::string& dir) {
  const auto lines =
      io::read_metrics((fs::path(dir) / "metrics.jsonl").string());
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!it->mask_rate) continue;
    mask_rate.push_back(*it->mask_rate);
    std::vector<double> acc, thresholds;
    for (const auto& [name, v] : it->pseudo_label_accuracy_per_class)
      acc.push_back(v);
    for (const auto& [name, v] : it->tau) thresholds.push_back(v);
    accuracy.push_back(acc);
    tau.push_back(thresholds);
    return;
  }
}

std::string format_markdown(const AblationResult& r) {
  std::ostringstream o;
  for (const char* net : {"B", "A"}) {
    o << "Network " << net << (net[0] == 'B' ? " (EMA teacher)" : " (student)")
      << ", " << r.seeds.size()
      << (r.seeds.size() == 1 ? " seed, " : " seeds, ") << r.validation_size
      << " validation samples; F1 in % (per class: mean over seeds):\n\n"
      << "| row |";
    for (const auto& c : r.classes) o << " " << c << " |";
    o << " macro F1 (mean ± sd) | difference to supervised [95% CI] |\n|";
    for (size_t i = 0; i < r.classes.size() + 3; ++i) o << " --- |";
    o << "\n";
    for (const auto& row : r.rows) {
      const NetScores& n = net[0] == 'B' ? row.b : row.a;
      o << "| " << row.row.label << " |";
      for (double f : n.f1_mean) o << " " << pct(f) << " |";
      o << " " << pct(n.macro_mean, 2) << " ± " << pct(n.macro_std, 2) << " |";
      if (n.difference) {
        o << " " << (n.difference->estimate >= 0 ? "+" : "")
          << pct(n.difference->estimate, 2) << " [" << pct(n.difference->low, 2)
          << ", " << pct(n.difference->high, 2) << "] |";
      } else {
        o << " |";
      }
      o << "\n";
    }
    o << "\n";
  }
  bool any = false;
  for (const auto& row : r.rows) any |= row.pseudo.has_value();
  if (!any) return o.str();
  o << "Pseudo-labels in each row's last metric window (mean over seeds): "
       "share kept, accuracy of the kept ones where labels are known (%), "
       "thresholds:\n\n| row | mask rate | accuracy per class | tau |\n"
       "| --- | --- | --- | --- |\n";
  for (const auto& row : r.rows) {
    if (!row.pseudo || row.pseudo->mask_rate.empty()) continue;
    const auto& p = *row.pseudo;
    auto per_class = [&](const std::vector<std::vector<double>>& v,
                         bool percent) {
      std::string s;
      for (size_t c = 0; c < r.classes.size(); ++c) {
        double sum = 0;
        int n = 0;
        for (const auto& seed : v) {
          if (c < seed.size() && seed[c] >= 0) {
            sum += seed[c];
            ++n;
          }
        }
        s += (c ? ", " : "") +
             (n ? (percent ? pct(sum / n, 0)
                           : str(std::round(sum / n * 100) / 100))
                : std::string("-"));
      }
      return s;
    };
    o << "| " << row.row.label << " | " << pct(mean(p.mask_rate)) << "% | "
      << per_class(p.accuracy, true) << " | " << per_class(p.tau, false)
      << " |\n";
  }
  return o.str();
}

}  // namespace semifer::ablation
