// The plot sections of the training report (report.cpp assembles them).
#include "report_plots.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "semifer/eval/svg.h"
#include "semifer/util/yaml_fields.h"

namespace semifer::eval::detail {

namespace {

Series named(const std::string& name) {
  Series s;
  s.name = name;
  return s;
}

std::string figure(const std::string& id, const std::string& svg,
                   const std::string& caption) {
  return "<figure class=\"plot\" id=\"plot-" + id + "\">\n" + svg +
         "\n<figcaption>" + html_escape(caption) + "</figcaption>\n</figure>\n";
}

void add_point(Series& s, double x, double y) {
  s.x.push_back(x);
  s.y.push_back(y);
}

// The series of class `cls` in `out`, appended on first use, so series keep
// the order in which classes first appear.
Series& class_series(std::vector<Series>& out,
                     std::map<std::string, size_t>& index,
                     const std::string& cls) {
  auto it = index.find(cls);
  if (it == index.end()) {
    it = index.emplace(cls, out.size()).first;
    out.push_back(named(cls));
  }
  return out[it->second];
}

// Whether any series has a point to draw (gaps are NaN).
bool has_points(const std::vector<Series>& series) {
  for (const auto& s : series) {
    for (double y : s.y) {
      if (std::isfinite(y)) return true;
    }
  }
  return false;
}

// One series per class, in the order classes first appear; `value` gives a
// line's per-class map; a value `keep` rejects (e.g. -1 for "unknown") is a
// gap in its line.
std::vector<Series> per_class_series(
    const std::vector<MetricsLine>& lines,
    const std::function<const PerClass&(const MetricsLine&)>& value,
    const std::function<bool(double)>& keep) {
  std::vector<Series> out;
  std::map<std::string, size_t> index;
  for (const auto& m : lines) {
    if (!m.step) continue;
    for (const auto& [cls, v] : value(m)) {
      Series& s = class_series(out, index, cls);
      add_point(s, static_cast<double>(*m.step),
                std::isfinite(v) && keep(v)
                    ? v
                    : std::numeric_limits<double>::quiet_NaN());
    }
  }
  return out;
}

// A threshold as people write it: "0.95", or "0.931" for a DTM value.
std::string tau_text(double v) {
  const std::string s = util::shortest(v);
  return s.size() <= 6 ? s : fmt(v, 3);
}

// Whether two series hold the same points (NaN matching NaN).
bool same_points(const Series& a, const Series& b) {
  if (a.x != b.x || a.y.size() != b.y.size()) return false;
  for (size_t i = 0; i < a.y.size(); ++i) {
    const bool na = !std::isfinite(a.y[i]), nb = !std::isfinite(b.y[i]);
    if (na != nb || (!na && std::abs(a.y[i] - b.y[i]) > 1e-9)) return false;
  }
  return true;
}

// What the panels cannot show at a glance: which series coincide. "all 7
// classes equal: 0.95" ("all 7 classes equal at every epoch" when the
// common line moves), else the groups of equal series ("equal lines: Anger
// = Fear"), else "".
std::string coinciding(const std::vector<Series>& series) {
  std::vector<std::vector<size_t>> groups;
  std::vector<bool> placed(series.size(), false);
  for (size_t i = 0; i < series.size(); ++i) {
    if (placed[i]) continue;
    std::vector<size_t> g = {i};
    for (size_t j = i + 1; j < series.size(); ++j) {
      if (!placed[j] && same_points(series[i], series[j])) {
        g.push_back(j);
        placed[j] = true;
      }
    }
    if (g.size() > 1) groups.push_back(std::move(g));
  }
  if (groups.empty()) return "";
  if (groups.size() == 1 && groups[0].size() == series.size()) {
    const std::string all =
        "all " + std::to_string(series.size()) + " classes equal";
    std::optional<double> value;
    bool constant = true;
    for (double y : series[0].y) {
      if (!std::isfinite(y)) continue;
      if (value && std::abs(*value - y) > 1e-9) constant = false;
      if (!value) value = y;
    }
    if (value && constant) return all + ": " + tau_text(*value);
    return all + " at every epoch";
  }
  std::string out = "equal lines: ";
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g) out += "; ";
    for (size_t k = 0; k < groups[g].size(); ++k)
      out += (k ? " = " : "") + series[groups[g][k]].name;
  }
  return out;
}

// "; tau 0.95 for every class at step N" or "; tau 0.9 to 0.97 by class at
// step N", from the last line that holds tau; "" when none does.
std::string latest_tau(const std::vector<MetricsLine>& lines) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::optional<double> lo, hi;
    for (const auto& [cls, v] : it->tau) {
      if (!std::isfinite(v)) continue;
      lo = lo ? std::min(*lo, v) : v;
      hi = hi ? std::max(*hi, v) : v;
    }
    if (!lo) continue;
    const std::string at = " at " + step_of(*it);
    if (*hi - *lo <= 1e-9)
      return "; tau " + tau_text(*lo) + " for every class" + at;
    return "; tau " + tau_text(*lo) + " to " + tau_text(*hi) + " by class" + at;
  }
  return "";
}

}  // namespace

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string missing(const std::string& why) {
  return "<p class=\"missing\">Not recorded in this run: " + html_escape(why) +
         ".</p>\n";
}

std::string losses_section(const std::vector<MetricsLine>& lines) {
  LinePlot p;
  p.x_label = "step";
  p.y_label = "loss (mean since the previous line)";
  p.integer_x = true;
  Series l = named("L_l labeled"), u = named("L_u unlabeled");
  for (const auto& m : lines) {
    if (!m.step) continue;
    const double x = static_cast<double>(*m.step);
    if (m.loss_labeled) add_point(l, x, *m.loss_labeled);
    if (m.loss_unlabeled) add_point(u, x, *m.loss_unlabeled);
  }
  if (!l.x.empty()) p.series.push_back(l);
  if (!u.x.empty()) p.series.push_back(u);
  if (p.series.empty()) return missing("no training loss was logged");
  return figure(
      "losses", render_svg(p),
      "Training losses against the step: L_l, cross-entropy on the labeled "
      "batch; L_u, the masked pseudo-label loss on the unlabeled batch "
      "(semi-supervised runs). Each point is the mean over the steps since "
      "the previous line of metrics.jsonl.");
}

std::string f1_section(const std::vector<MetricsLine>& lines) {
  LinePlot p;
  p.x_label = "step";
  p.y_label = "validation macro F1";
  p.integer_x = true;
  p.y_min = 0.0;
  Series a = named("A (student)"), b = named("B (EMA teacher)");
  for (const auto& m : lines) {
    if (!m.step) continue;
    const double x = static_cast<double>(*m.step);
    if (m.validation_a && m.validation_a->macro_f1)
      add_point(a, x, *m.validation_a->macro_f1);
    if (m.validation_b && m.validation_b->macro_f1)
      add_point(b, x, *m.validation_b->macro_f1);
  }
  if (a.x.empty() && b.x.empty())
    return missing("no validation (the run has no validation set)");
  p.series = {a, b};
  return figure("f1", render_svg(p),
                "Validation macro F1 (the ABAW score: the mean of the "
                "per-class F1) at each epoch end, of network A and of its "
                "exponential moving average B.");
}

std::string tau_section(const std::vector<MetricsLine>& lines) {
  // tau changes only at an epoch end, after the DTM update: the epoch-end
  // line (the one with the DTM's confidences) holds the threshold the next
  // epoch uses, and an epoch still running has none yet. A line logged
  // before the first update shows the starting threshold (epoch 0). Files
  // without DTM confidences take the last line of each epoch.
  bool marked = false;
  for (const auto& m : lines)
    marked = marked || (!m.tau.empty() && !m.dtm_mean_confidence.empty());
  auto is_end = [&](const MetricsLine& m) {
    return !marked || !m.dtm_mean_confidence.empty();
  };
  std::map<int64_t, std::pair<const MetricsLine*, const MetricsLine*>> epochs;
  for (const auto& m : lines) {
    if (!m.epoch || m.tau.empty()) continue;
    auto& [first, end] = epochs[*m.epoch];
    if (!first) first = &m;
    if (is_end(m)) end = &m;
  }
  std::vector<std::pair<int64_t, const MetricsLine*>> points;
  if (!epochs.empty()) {
    const auto& [epoch, ends] = *epochs.begin();
    if (ends.first != ends.second && !(marked && is_end(*ends.first)))
      points.emplace_back(epoch - 1, ends.first);
  }
  for (const auto& [epoch, ends] : epochs) {
    if (ends.second) points.emplace_back(epoch, ends.second);
  }
  if (points.empty())
    return missing("no thresholds (a supervised run has no tau)");

  // One panel per class on shared axes: the DTM often sets several classes
  // nearly the same tau, and fixed thresholds set all of them equal, so in
  // one plot most lines would hide under another.
  PanelPlot p;
  p.x_label = "epoch";
  p.y_label = "confidence threshold tau";
  p.integer_x = true;
  p.y_max = 1.0;  // a confidence: the axis never needs to pass 1
  std::map<std::string, size_t> index;
  for (const auto& [epoch, m] : points) {
    for (const auto& [cls, v] : m->tau)
      add_point(class_series(p.series, index, cls), static_cast<double>(epoch),
                v);
  }
  p.note = coinciding(p.series);
  return figure("tau", render_svg(p),
                "Per-class confidence threshold tau_c of the Dynamic "
                "Threshold Module after each epoch's update (the threshold "
                "used in the next epoch), one panel per class on the same "
                "axes; epoch 0 is the starting value where a line was logged "
                "before the first update. A pseudo-label of class c counts "
                "only when its confidence exceeds tau_c.");
}

std::string mask_section(const std::vector<MetricsLine>& lines) {
  LinePlot p;
  p.x_label = "step";
  p.y_label = "share of pseudo-labels kept";
  p.integer_x = true;
  p.y_min = 0.0;
  p.y_max = 1.0;
  p.series = per_class_series(
      lines,
      [](const MetricsLine& m) -> const PerClass& {
        return m.mask_rate_per_class;
      },
      [](double v) { return v >= 0; });
  Series all = named("all classes");
  all.dashed = true;
  all.colour = "#000";
  for (const auto& m : lines) {
    if (m.step && m.mask_rate)
      add_point(all, static_cast<double>(*m.step), *m.mask_rate);
  }
  if (!all.x.empty()) p.series.push_back(all);
  if (!has_points(p.series))
    return missing("no mask rate (a supervised run has no pseudo-labels)");
  return figure(
      "mask-rate", render_svg(p),
      "Mask rate: the share of unlabeled samples pseudo-labelled as "
      "class c whose confidence passed tau_c, since the previous "
      "line (a gap where no sample was pseudo-labelled as c); dashed, "
      "over all classes.");
}

std::string pseudo_accuracy_section(const std::vector<MetricsLine>& lines) {
  LinePlot p;
  p.x_label = "step";
  p.y_label = "pseudo-label accuracy";
  p.integer_x = true;
  p.y_min = 0.0;
  p.y_max = 1.0;
  p.series = per_class_series(
      lines,
      [](const MetricsLine& m) -> const PerClass& {
        return m.pseudo_label_accuracy_per_class;
      },
      [](double v) { return v >= 0; });
  if (p.series.empty())
    return missing("no pseudo-label accuracy (a supervised run)");
  if (!has_points(p.series)) {
    // No accuracy has two causes that need different fixes: nothing was
    // kept (tau too high for the teacher's confidence), or what was kept
    // had no known label (the pool's labels are hidden).
    bool kept = false, measured = false;
    for (const auto& m : lines) {
      if (m.mask_rate) {
        measured = true;
        kept = kept || *m.mask_rate > 0;
      }
      for (const auto& [cls, v] : m.mask_rate_per_class) {
        if (!std::isfinite(v) || v < 0) continue;
        measured = true;
        kept = kept || v > 0;
      }
    }
    if (measured && !kept)
      return missing(
          "no pseudo-label accuracy: no pseudo-label passed the "
          "threshold (the mask rate was 0 at every line" +
          latest_tau(lines) + "), so none was kept to score");
    return missing(
        "no pseudo-label accuracy: no kept pseudo-label had a known "
        "label (the unlabeled pool's labels are hidden or unknown)");
  }
  return figure("pseudo-accuracy", render_svg(p),
                "Accuracy of the kept pseudo-labels of class c among unlabeled "
                "samples whose hidden label is known, since the previous line; "
                "points where none was known are left out.");
}

const MetricsLine* latest_validation(const std::vector<MetricsLine>& lines) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->validation_a || it->validation_b) return &*it;
  }
  return nullptr;
}

std::string step_of(const MetricsLine& m) {
  return m.step ? "step " + std::to_string(*m.step)
                : "line " + std::to_string(m.line) + " of metrics.jsonl";
}

std::string confusion_section(const std::vector<MetricsLine>& lines,
                              const std::vector<std::string>& classes) {
  const MetricsLine* at = nullptr;
  const ValidationScores* s = nullptr;
  std::string net;
  for (const char* want : {"B", "A"}) {
    for (auto it = lines.rbegin(); it != lines.rend() && !s; ++it) {
      const auto& v = want[0] == 'B' ? it->validation_b : it->validation_a;
      if (v && !v->confusion.empty()) at = &*it, s = &*v, net = want;
    }
  }
  if (!s) return missing("no confusion matrix was logged");
  HeatMap h;
  h.counts = s->confusion;
  h.row_title = "true class";
  h.col_title = "predicted class";
  const size_t n = h.counts.size();
  for (size_t i = 0; i < n; ++i) {
    h.row_labels.push_back(s->f1.size() == n ? s->f1[i].first
                           : classes.size() == n
                               ? classes[i]
                               : "class " + std::to_string(i));
  }
  h.col_labels = h.row_labels;
  return figure(
      "confusion", render_svg(h),
      "Confusion matrix of network " + net +
          (net == "B" ? " (EMA teacher)" : " (student; B logged none)") +
          " on the validation set at " + step_of(*at) +
          ": rows are true classes, columns predictions, each cell holds its "
          "count. The colour is row-normalised: the count's share of its "
          "true class, so small classes read on the same scale as large "
          "ones.");
}

}  // namespace semifer::eval::detail
