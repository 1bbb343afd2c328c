// The training report from hand-written run folders: sections, heat-map
// counts, escaping, missing data and errors.
#include "semifer/eval/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "semifer/io/metrics_log.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace {

// Two epochs of a semi-supervised run over three classes, one with a name
// that needs escaping. The epoch-1 confusion matrix differs from epoch 2's
// so a test can tell which one is drawn.
const char* kSslMetrics =
    R"({"epoch":1,"step":5,"loss_labeled":2.1,"lr":0.0005,"images_per_second":100.5,"loss_unlabeled":0.4,"mask_rate":0.1,"mask_rate_per_class":{"Neutral":0.1,"Anger":-1,"A&B":0.0},"pseudo_label_accuracy_per_class":{"Neutral":0.5,"Anger":-1,"A&B":-1},"tau":{"Neutral":0.95,"Anger":0.95,"A&B":0.95}}
{"epoch":1,"step":10,"loss_labeled":1.9,"lr":0.0005,"images_per_second":110.0,"loss_unlabeled":0.5,"mask_rate":0.2,"mask_rate_per_class":{"Neutral":0.3,"Anger":0.1,"A&B":0.2},"pseudo_label_accuracy_per_class":{"Neutral":0.6,"Anger":0.7,"A&B":-1},"tau":{"Neutral":0.9,"Anger":0.93,"A&B":0.95},"dtm_mean_confidence":{"Neutral":0.5,"Anger":0.7,"A&B":0.0},"validation":{"A":{"accuracy":0.5,"macro_f1":0.4,"f1":{"Neutral":0.5,"Anger":0.4,"A&B":0.3},"confusion":[[9,0,0],[0,9,0],[0,0,9]]},"B":{"accuracy":0.45,"macro_f1":0.35,"f1":{"Neutral":0.4,"Anger":0.35,"A&B":0.3},"confusion":[[9,0,0],[0,9,0],[0,0,9]]}}}

{"epoch":2,"step":15,"loss_labeled":1.5,"lr":0.0005,"images_per_second":120.0,"loss_unlabeled":0.6,"mask_rate":0.3,"mask_rate_per_class":{"Neutral":0.4,"Anger":0.3,"A&B":0.2},"pseudo_label_accuracy_per_class":{"Neutral":0.8,"Anger":-1,"A&B":-1},"tau":{"Neutral":0.9,"Anger":0.93,"A&B":0.95}}
{"epoch":2,"step":20,"loss_labeled":1.2,"lr":0.0005,"images_per_second":125.0,"loss_unlabeled":0.7,"mask_rate":0.4,"mask_rate_per_class":{"Neutral":0.5,"Anger":0.4,"A&B":0.3},"pseudo_label_accuracy_per_class":{"Neutral":0.85,"Anger":0.8,"A&B":-1},"tau":{"Neutral":0.85,"Anger":0.9,"A&B":0.94},"dtm_mean_confidence":{"Neutral":0.4,"Anger":0.6,"A&B":0.9},"validation":{"A":{"accuracy":0.55,"macro_f1":0.3,"f1":{"Neutral":0.5,"Anger":0.2,"A&B":0.2},"confusion":[[4,1,0],[2,6,1],[0,0,3]]},"B":{"accuracy":0.6,"macro_f1":0.6125,"f1":{"Neutral":0.7,"Anger":0.6,"A&B":0.5375},"confusion":[[5,1,0],[2,7,1],[0,0,4]]}}}
)";

const char* kConfig =
    "# run <script>alert(1)</script> & co\n"
    "data: {classes: [Neutral, Anger, A&B]}\n"
    "model: {name: smallnet}\n"
    "train: {epochs: 2, steps_per_epoch: 10}\n"
    "ssl: {enabled: true, thresholds: dynamic}\n";

std::string make_run(const TempDir& t, const std::string& metrics,
                     const char* config = kConfig,
                     const std::string& name = "run") {
  write_text_file(t.file(name + "/metrics.jsonl"), metrics);
  if (config) write_text_file(t.file(name + "/config.yaml"), config);
  return t.file(name);
}

// The HTML between `<section id="ID">` and its `</section>`.
std::string section(const std::string& html, const std::string& id) {
  const auto start = html.find("<section id=\"" + id + "\">");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</section>", start) - start);
}

// The points of the polyline named `name` inside the figure `plot_id`.
int polyline_points(const std::string& html, const std::string& plot_id,
                    const std::string& name) {
  const auto fig = html.find("id=\"" + plot_id + "\"");
  const auto end = html.find("</figure>", fig);
  const auto at =
      html.find("<polyline class=\"series\" data-name=\"" + name + "\"", fig);
  if (fig == std::string::npos || at == std::string::npos || at > end)
    return -1;
  const auto p = html.find("points=\"", at) + 8;
  const std::string points = html.substr(p, html.find('"', p) - p);
  return static_cast<int>(util::split_ws(points).size());
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST(Report, SemiSupervisedRunHasEveryPlot) {
  TempDir t;
  const std::string html = eval::render_report(make_run(t, kSslMetrics));
  for (const char* id : {"plot-losses", "plot-f1", "plot-tau", "plot-mask-rate",
                         "plot-pseudo-accuracy", "plot-confusion"}) {
    const auto at =
        html.find(std::string("<figure class=\"plot\" id=\"") + id + "\">");
    ASSERT_NE(at, std::string::npos) << id;
    const std::string fig = html.substr(at, html.find("</figure>", at) - at);
    EXPECT_TRUE(has(fig, "<svg")) << id;
    EXPECT_TRUE(has(fig, "<figcaption>")) << id;
    if (std::string(id) != "plot-confusion") {
      EXPECT_TRUE(has(fig, "<polyline class=\"series\"")) << id;
      // The thresholds are small multiples: each class's panel names it.
      EXPECT_TRUE(has(fig, std::string(id) == "plot-tau"
                               ? "class=\"panel-title\""
                               : "class=\"legend\""))
          << id;
    }
  }
  EXPECT_FALSE(has(html, "Not recorded in this run"));
  // Two losses over four lines; A and B over the two epoch ends.
  EXPECT_EQ(polyline_points(html, "plot-losses", "L_l labeled"), 4);
  EXPECT_EQ(polyline_points(html, "plot-losses", "L_u unlabeled"), 4);
  EXPECT_EQ(polyline_points(html, "plot-f1", "B (EMA teacher)"), 2);
  // tau: the starting value (epoch 0) and after epochs 1 and 2.
  EXPECT_EQ(polyline_points(html, "plot-tau", "Neutral"), 3);
  // Mask rate: per class (-1, no pseudo-label of Anger at step 5, is left
  // out) and overall.
  EXPECT_EQ(polyline_points(html, "plot-mask-rate", "Anger"), 3);
  EXPECT_EQ(polyline_points(html, "plot-mask-rate", "Neutral"), 4);
  EXPECT_EQ(polyline_points(html, "plot-mask-rate", "all classes"), 4);
  // Pseudo-label accuracy leaves out -1 as a gap: Anger is unknown at steps
  // 5 and 15, so its line is two single points, not one joined line; A&B is
  // unknown always (its legend entry stays, its line is not drawn).
  EXPECT_EQ(polyline_points(html, "plot-pseudo-accuracy", "Neutral"), 4);
  EXPECT_EQ(polyline_points(html, "plot-pseudo-accuracy", "Anger"), 1);
  {
    const auto at = html.find("id=\"plot-pseudo-accuracy\"");
    const std::string fig = html.substr(at, html.find("</figure>", at) - at);
    size_t lines = 0;
    for (size_t p = fig.find("data-name=\"Anger\""); p != std::string::npos;
         p = fig.find("data-name=\"Anger\"", p + 1)) {
      ++lines;
    }
    EXPECT_EQ(lines, 2u);
  }
  EXPECT_EQ(polyline_points(html, "plot-pseudo-accuracy", "A&amp;B"), -1);

  // Summary: the model and the best macro F1 of each network with its step.
  const std::string summary = html.substr(0, html.find("<nav>"));
  EXPECT_TRUE(has(summary, "<td>smallnet</td>"));
  EXPECT_TRUE(has(summary, "20 of 20 planned (2 epochs of 10)"));
  EXPECT_TRUE(has(summary, "0.4000 at step 10 (epoch 1)")) << summary;
  EXPECT_TRUE(has(summary, "0.6125 at step 20 (epoch 2)")) << summary;
  EXPECT_TRUE(has(summary, "semi-supervised"));
}

TEST(Report, HeatMapHoldsTheLatestCountsOfB) {
  TempDir t;
  const std::string html = eval::render_report(make_run(t, kSslMetrics));
  const std::string fig = section(html, "confusion");
  const int64_t want[3][3] = {{5, 1, 0}, {2, 7, 1}, {0, 0, 4}};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      const std::string cell = "data-row=\"" + std::to_string(r) +
                               "\" data-col=\"" + std::to_string(c) +
                               "\" data-count=\"" + std::to_string(want[r][c]) +
                               "\"";
      EXPECT_TRUE(has(fig, cell)) << cell;
    }
  }
  // The count is written in the cell: row 1 col 1 is the only 7.
  EXPECT_TRUE(has(fig, ">7</text>"));
  EXPECT_FALSE(has(fig, ">9</text>")) << "epoch 1's matrix was drawn";
  // Class names on both axes, escaped, and the colour scale explained.
  EXPECT_TRUE(has(fig, "class=\"row-label\""));
  EXPECT_TRUE(has(fig, "class=\"col-label\""));
  EXPECT_TRUE(has(fig, ">A&amp;B</text>"));
  EXPECT_TRUE(has(fig, "network B"));
  EXPECT_TRUE(has(fig, "row-normalised"));
  EXPECT_TRUE(has(fig, "step 20"));
}

TEST(Report, F1TableHasEveryClassAndTheMacroRow) {
  TempDir t;
  const std::string html = eval::render_report(make_run(t, kSslMetrics));
  const std::string table = section(html, "per-class-f1");
  ASSERT_TRUE(has(table, "id=\"table-f1\""));
  EXPECT_TRUE(has(table, "<tr><td>Anger</td><td>0.2000</td><td>0.6000</td>"))
      << table;
  EXPECT_TRUE(has(table, "<td>A&amp;B</td><td>0.2000</td><td>0.5375</td>"));
  EXPECT_TRUE(has(table, "<th>macro F1</th><td>0.3000</td><td>0.6125</td>"));
}

TEST(Report, EscapesTextFromFilesAndFetchesNothing) {
  TempDir t;
  const std::string html = eval::render_report(make_run(t, kSslMetrics));
  EXPECT_TRUE(has(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
  EXPECT_TRUE(has(section(html, "configuration"), "<pre id=\"config\">"));
  EXPECT_FALSE(has(html, "<script"));
  EXPECT_FALSE(has(html, "A&B"));
  // Self-contained: no external resource of any kind.
  for (const char* external : {"<link", "src=", "@import", "url(", "https:"})
    EXPECT_FALSE(has(html, external)) << external;
  // The only URL is the SVG namespace name, which is never fetched.
  std::string rest = html;
  for (size_t at;
       (at = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;)
    rest.erase(at, 26);
  EXPECT_FALSE(has(rest, "http:"));
}

TEST(Report, SupervisedRunSaysWhatIsNotRecorded) {
  TempDir t;
  const std::string metrics =
      R"({"epoch":1,"step":4,"loss_labeled":2.0,"lr":0.001,"images_per_second":50}
{"epoch":1,"step":8,"loss_labeled":1.8,"lr":0.001,"images_per_second":50,"validation":{"A":{"accuracy":0.3,"macro_f1":0.2,"f1":{"x":0.2,"y":0.2},"confusion":[[1,2],[3,4]]},"B":{"accuracy":0.3,"macro_f1":0.25,"f1":{"x":0.3,"y":0.2},"confusion":[[2,1],[3,4]]}}}
)";
  const std::string html = eval::render_report(
      make_run(t, metrics, "model: {name: resnet18}\nssl: {enabled: false}\n"));
  for (const char* id : {"plot-losses", "plot-f1", "plot-confusion"})
    EXPECT_TRUE(has(html, std::string("id=\"") + id + "\"")) << id;
  for (const char* id : {"tau", "mask-rate", "pseudo-accuracy"}) {
    EXPECT_FALSE(has(html, std::string("id=\"plot-") + id + "\"")) << id;
    EXPECT_TRUE(has(section(html, id), "Not recorded in this run")) << id;
  }
  EXPECT_EQ(polyline_points(html, "plot-losses", "L_l labeled"), 2);
  EXPECT_EQ(polyline_points(html, "plot-losses", "L_u unlabeled"), -1);
  EXPECT_TRUE(has(html, "<td>supervised</td>"));
  EXPECT_TRUE(has(html, "<td>resnet18</td>"));
  EXPECT_FALSE(has(html, "could not be read"));
}

TEST(Report, ConfigThatIsNotYamlIsShownAsText) {
  TempDir t;
  const std::string html = eval::render_report(
      make_run(t, kSslMetrics, "model: {name: [unclosed\n<b>x</b>\n"));
  EXPECT_TRUE(has(section(html, "configuration"), "could not be read as YAML"));
  EXPECT_TRUE(has(html, "&lt;b&gt;x&lt;/b&gt;"));
  EXPECT_TRUE(has(html, "unknown (no model.name in config.yaml)"));
  EXPECT_TRUE(has(html, "id=\"plot-losses\""));
}

TEST(Report, TauIsPlottedPerFinishedEpoch) {
  TempDir t;
  // Epoch 1 ends at step 10 (the DTM's confidences mark it); epoch 2 is
  // still running: its line holds epoch 1's threshold, not a new point.
  const std::string html =
      eval::render_report(make_run(t,
                                   R"({"epoch":1,"step":5,"tau":{"x":0.95}}
{"epoch":1,"step":10,"tau":{"x":0.9},"dtm_mean_confidence":{"x":0.5}}
{"epoch":2,"step":15,"tau":{"x":0.9}}
)"));
  EXPECT_EQ(polyline_points(html, "plot-tau", "x"), 2);  // epochs 0 and 1
  // Without any epoch-end mark, the last line of each epoch counts.
  const std::string plain = eval::render_report(make_run(
      t,
      "{\"epoch\":1,\"tau\":{\"x\":0.9}}\n{\"epoch\":2,\"tau\":{\"x\":0.8}}\n",
      nullptr, "plain"));
  EXPECT_EQ(polyline_points(plain, "plot-tau", "x"), 2);  // epochs 1 and 2
}

// Seven classes under fixed thresholds: one tau for all, at every epoch.
std::string equal_tau_metrics(const std::string& anger = "0.95") {
  std::string out;
  for (int epoch = 1; epoch <= 3; ++epoch) {
    out += "{\"epoch\":" + std::to_string(epoch) +
           ",\"step\":" + std::to_string(10 * epoch) +
           ",\"tau\":{\"Neutral\":0.95,\"Anger\":" + anger +
           ",\"Disgust\":0.95,\"Fear\":0.95,\"Happiness\":0.95,"
           "\"Sadness\":0.95,\"Surprise\":0.95}}\n";
  }
  return out;
}

TEST(Report, TauPlotShowsEveryClassWhenTheLinesCoincide) {
  TempDir t;
  const std::string html =
      eval::render_report(make_run(t, equal_tau_metrics(), nullptr));
  const std::string fig = section(html, "tau");
  ASSERT_TRUE(has(fig, "id=\"plot-tau\"")) << fig;
  // One panel per class, each titled with the class and holding its line.
  for (const char* cls : {"Neutral", "Anger", "Disgust", "Fear", "Happiness",
                          "Sadness", "Surprise"}) {
    const std::string name = cls;
    const auto panel =
        fig.find("<g class=\"panel\" data-name=\"" + name + "\">");
    ASSERT_NE(panel, std::string::npos) << name;
    const std::string g = fig.substr(panel, fig.find("</g>", panel) - panel);
    const auto title = g.find("<text class=\"panel-title\"");
    ASSERT_NE(title, std::string::npos) << g;
    EXPECT_EQ(g.substr(g.find('>', title) + 1, name.size() + 7),
              name + "</text>")
        << g;
    EXPECT_TRUE(has(g, "<polyline class=\"series\" data-name=\"" + name)) << g;
    EXPECT_TRUE(has(g, ">last 0.95</text>")) << g;
    EXPECT_EQ(polyline_points(html, "plot-tau", name), 3) << name;
  }
  size_t titles = 0;
  for (size_t p = fig.find("class=\"panel-title\""); p != std::string::npos;
       p = fig.find("class=\"panel-title\"", p + 1))
    ++titles;
  EXPECT_EQ(titles, 7u);
  // The plot says that the lines coincide, and on what value.
  EXPECT_TRUE(has(fig, "<text class=\"note\"")) << fig;
  EXPECT_TRUE(has(fig, "all 7 classes equal: 0.95")) << fig;

  // One class apart: the others are named as equal, that one is not.
  const std::string apart = eval::render_report(
      make_run(t, equal_tau_metrics("0.9"), nullptr, "apart"));
  const std::string note = section(apart, "tau");
  EXPECT_FALSE(has(note, "all 7 classes")) << note;
  EXPECT_TRUE(has(note,
                  "equal lines: Neutral = Disgust = Fear = Happiness = "
                  "Sadness = Surprise<"))
      << note;
}

TEST(Report, PseudoAccuracyNoteSaysWhyItIsMissing) {
  TempDir t;
  // Nothing passed tau: the mask rate is 0 at every line.
  const std::string none = eval::render_report(make_run(
      t,
      R"({"epoch":1,"step":5,"mask_rate":0,"mask_rate_per_class":{"x":0,"y":-1},"pseudo_label_accuracy_per_class":{"x":-1,"y":-1},"tau":{"x":0.95,"y":0.95}}
{"epoch":1,"step":10,"mask_rate":0,"mask_rate_per_class":{"x":0,"y":0},"pseudo_label_accuracy_per_class":{"x":-1,"y":-1},"tau":{"x":0.95,"y":0.95},"dtm_mean_confidence":{"x":0.5,"y":0.4}}
)",
      nullptr));
  const std::string nothing_kept = section(none, "pseudo-accuracy");
  EXPECT_TRUE(has(nothing_kept, "no pseudo-label passed the threshold"))
      << nothing_kept;
  EXPECT_TRUE(has(nothing_kept, "tau 0.95 for every class at step 10"))
      << nothing_kept;
  EXPECT_FALSE(has(nothing_kept, "hidden")) << nothing_kept;

  // Pseudo-labels were kept, but none had a known label: the hidden labels
  // are the reason.
  const std::string hidden = eval::render_report(make_run(
      t,
      R"({"epoch":1,"step":5,"mask_rate":0.4,"mask_rate_per_class":{"x":0.5,"y":0.2},"pseudo_label_accuracy_per_class":{"x":-1,"y":-1},"tau":{"x":0.7,"y":0.8}}
)",
      nullptr, "hidden"));
  const std::string unknown = section(hidden, "pseudo-accuracy");
  EXPECT_TRUE(has(unknown, "labels are hidden")) << unknown;
  EXPECT_FALSE(has(unknown, "passed the threshold")) << unknown;
}

TEST(Report, ConfigShowsShortFloatsAndWraps) {
  TempDir t;
  // A config.yaml as semifer wrote it before its key tables: floats at full
  // precision.
  const std::string html = eval::render_report(
      make_run(t, kSslMetrics,
               "train: {lr: 0.00050000000000000001, epochs: 2}\n"
               "ssl: {tau: 0.14999999999999999, mu: 0.90000000000000002, "
               "ema_decay: 1.0000000000000000, other: 0.15000000000000002}\n"
               "augment: {mean: [0.485, 0.456], note: '0.14999999999999999'}\n"
               "# lr was 0.14999999999999999\n"
               "model: {name: smallnet, version: 1.13, dropout: 0.150}\n"));
  const std::string cfg = section(html, "configuration");
  for (const char* want :
       {"lr: 0.0005,", "tau: 0.15,", "mu: 0.9,", "ema_decay: 1.0,",
        // A different double keeps its digits; short numbers as written.
        "other: 0.15000000000000002}", "[0.485, 0.456]", "version: 1.13,",
        "dropout: 0.150}",
        // Quoted strings and comments are text, not numbers.
        "note: &#39;0.14999999999999999&#39;", "# lr was 0.14999999999999999"})
    EXPECT_TRUE(has(cfg, want)) << want << "\n" << cfg;
  EXPECT_FALSE(has(cfg, "tau: 0.1499999")) << cfg;
  EXPECT_FALSE(has(cfg, "0.00050000")) << cfg;
  // The block wraps instead of scrolling sideways.
  const std::string style =
      html.substr(html.find("<style>"), html.find("</style>"));
  const auto pre = style.find("\npre {");
  ASSERT_NE(pre, std::string::npos) << style;
  const std::string rule = style.substr(pre, style.find('}', pre) - pre);
  EXPECT_TRUE(has(rule, "white-space: pre-wrap")) << rule;
  EXPECT_TRUE(has(rule, "overflow-wrap: anywhere")) << rule;
  EXPECT_FALSE(has(rule, "overflow-x")) << rule;
}

TEST(Report, LinesWithAnySubsetOfKeys) {
  TempDir t;
  // No validation, no config.yaml, a line without a step, blank lines, a
  // NaN loss (written as null) and keys this reader does not know.
  const std::string html = eval::render_report(
      make_run(t,
               "\n{\"step\": 1}\n{\"loss_labeled\": 3.0}\n\n"
               "{\"step\": 2, \"loss_labeled\": null, \"new_key\": [1]}\n"
               "{\"step\": 3, \"loss_labeled\": 2.5}\n",
               nullptr));
  EXPECT_EQ(polyline_points(html, "plot-losses", "L_l labeled"), 1);
  for (const char* id : {"f1", "tau", "mask-rate", "pseudo-accuracy",
                         "confusion", "per-class-f1", "configuration"}) {
    EXPECT_TRUE(has(section(html, id), "Not recorded in this run")) << id;
  }
  EXPECT_TRUE(has(html, "config.yaml is absent"));
  EXPECT_TRUE(has(html, "B (EMA teacher)</th><td>not recorded in this run"));

  // An empty metrics.jsonl (a run that has just started) still reports.
  const std::string empty = eval::render_report(make_run(t, "", nullptr, "e"));
  EXPECT_TRUE(has(section(empty, "losses"), "Not recorded in this run"));
}

TEST(Report, MalformedLineNamesFileAndLine) {
  TempDir t;
  const std::string run = make_run(
      t, "{\"step\": 1, \"loss_labeled\": 2}\n\n{\"step\": 3, \"loss\n");
  expect_error([&] { eval::render_report(run); },
               {"metrics.jsonl:3:", "not valid JSON"});
  make_run(t, "{\"step\": 1}\n{\"step\": \"two\"}\n");
  expect_error([&] { eval::render_report(run); },
               {"metrics.jsonl:2:", "'step' is not an integer"});
  make_run(t, "[1, 2]\n");
  expect_error([&] { eval::render_report(run); },
               {"metrics.jsonl:1:", "not a JSON object"});
  make_run(t, "{\"tau\": {\"Anger\": \"high\"}}\n");
  expect_error([&] { eval::render_report(run); },
               {"metrics.jsonl:1:", "'tau.Anger' is not a number"});
  make_run(t, "{\"validation\": {\"B\": {\"confusion\": [[1, 2], [3]]}}}\n");
  expect_error([&] { eval::render_report(run); },
               {"metrics.jsonl:1:", "validation.B.confusion", "square"});
}

TEST(Report, MissingFolderOrMetricsIsAOneLineError) {
  TempDir t;
  expect_error([&] { eval::render_report(t.file("nowhere")); },
               {"nowhere", "no such folder"});
  write_text_file(t.file("empty/config.yaml"), kConfig);
  expect_error([&] { eval::render_report(t.file("empty")); },
               {"metrics.jsonl", "no such file"});
  expect_error([&] { eval::render_report(t.file("empty/config.yaml")); },
               {"config.yaml", "not a folder"});
}

TEST(Report, WritesToTheRunFolderOrOut) {
  TempDir t;
  const std::string run = make_run(t, kSslMetrics);
  EXPECT_EQ(eval::write_report(run), run + "/report.html");
  EXPECT_TRUE(std::filesystem::exists(run + "/report.html"));
  const std::string out = (t.path() / "new/folder/r.html").string();
  EXPECT_EQ(eval::write_report(run, out), out);
  const auto lines = util::read_lines(out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "<!DOCTYPE html>");
}

TEST(MetricsLog, ReadsEveryKnownKey) {
  const auto lines = io::parse_metrics(kSslMetrics, "m.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].line, 4);  // after the blank line
  const auto& end = lines[3];
  EXPECT_EQ(end.epoch, 2);
  EXPECT_EQ(end.step, 20);
  EXPECT_DOUBLE_EQ(*end.loss_unlabeled, 0.7);
  ASSERT_EQ(end.tau.size(), 3u);
  EXPECT_EQ(end.tau[2].first, "A&B");  // the file's class order
  EXPECT_DOUBLE_EQ(end.dtm_mean_confidence[1].second, 0.6);
  ASSERT_TRUE(end.validation_b);
  EXPECT_DOUBLE_EQ(*end.validation_b->macro_f1, 0.6125);
  EXPECT_EQ(end.validation_b->confusion[1][2], 1);
  EXPECT_FALSE(lines[0].validation_a);
  const auto nan = io::parse_metrics("{\"tau\": {\"x\": null}}", "m.jsonl");
  EXPECT_TRUE(std::isnan(nan[0].tau[0].second));
}

// Issue 16, item 12: a last line cut short by a kill (which resume
// tolerates) does not stop the report; a bad line before it still does.
TEST(MetricsLog, ALastLineCutShortIsSkipped) {
  const auto lines = io::parse_metrics(
      "{\"step\": 1}\n{\"step\": 2}\n{\"step\": 3, \"lo", "m.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].step, 2);
  test::expect_error(
      [] {
        io::parse_metrics("{\"step\": 1}\n{\"st\n{\"step\": 3}\n", "m.jsonl");
      },
      {"m.jsonl:2", "not valid JSON"});
}

}  // namespace semifer::test
