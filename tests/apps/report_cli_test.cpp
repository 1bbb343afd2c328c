// `semifer report` on a real (tiny) training run, and the report rendered
// by headless Chromium.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "semifer/io/image.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

const char* kChromium = "/usr/bin/chromium";

const char* kPlots[] = {
    "plot-losses",          "plot-f1",       "plot-tau", "plot-mask-rate",
    "plot-pseudo-accuracy", "plot-confusion"};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Trains two short epochs on a synthetic data set; returns the run folder.
// A class-balanced selection of 10 per class sends the other labeled faces
// to the unlabeled pool with their labels hidden (so pseudo-label accuracy
// is known), and a starting threshold of 0.15 lets an untrained model's
// pseudo-labels through: every plot has data.
std::string train_tiny_run(const TempDir& t, const std::string& extra) {
  RunResult r = run_cli(
      {"data", "synth", t.file("data"), "--size", "32", "--scale", "0.3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string data;
  for (const auto& line : util::read_lines(t.file("data/data.yaml"))) {
    data += line.rfind("sampling:", 0) == 0
                ? "sampling: {per_class: 10, leftovers_to_unlabeled: true}"
                : line;
    data += "\n";
  }
  EXPECT_NE(data.find("per_class: 10"), std::string::npos) << data;
  write_text_file(t.file("data/data10.yaml"), data);
  write_text_file(t.file("train.yaml"),
                  "data: data/data10.yaml\n"
                  "augment: {size: 32}\n"
                  "model: {name: smallnet}\n"
                  "train: {epochs: 2, steps_per_epoch: 6, batch_labeled: 8, "
                  "batch_unlabeled: 8, log_every: 3}\n"
                  "ssl: {dtm_per_class: 10, tau: 0.15}\n");
  std::vector<std::string> args = {"train", t.file("train.yaml"), "--out",
                                   t.file("run"), "--quiet"};
  if (!extra.empty()) args.insert(args.end(), {"--set", extra});
  r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return t.file("run");
}

// The HTML of the figure with id `id`, or "" when there is none.
std::string figure(const std::string& html, const std::string& id) {
  const auto at = html.find("<figure class=\"plot\" id=\"" + id + "\">");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</figure>", at) - at);
}

// Runs headless Chromium on `url` with `args`; a hung browser is killed
// after a minute. Chromium's stderr chatter (D-Bus, GPU) goes to a file.
int chromium(const TempDir& t, const std::string& args, const std::string& url,
             const std::string& stdout_path) {
  const std::string cmd =
      "timeout -k 5 60 " + std::string(kChromium) +
      " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
      " --no-first-run --hide-scrollbars --user-data-dir='" +
      t.file("profile") + "' " + args + " '" + url + "' >'" + stdout_path +
      "' 2>>'" + t.file("chromium.log") + "' </dev/null";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(ReportCli, ReportsASemiSupervisedRun) {
  TempDir t;
  const std::string run = train_tiny_run(t, "");
  const RunResult r = run_cli({"report", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + run + "/report.html"), std::string::npos)
      << r.out;
  const std::string html = slurp(run + "/report.html");
  for (const char* id : kPlots) {
    const std::string fig = figure(html, id);
    EXPECT_NE(fig.find("<svg"), std::string::npos) << id;
  }
  EXPECT_EQ(html.find("Not recorded in this run"), std::string::npos);
  EXPECT_NE(html.find("<td>smallnet</td>"), std::string::npos);
  EXPECT_NE(html.find("<pre id=\"config\">"), std::string::npos);
  // The run folder's config.yaml, and so the report, write the starting
  // threshold as it was given, not at full double precision.
  EXPECT_NE(slurp(run + "/config.yaml").find("tau: 0.15\n"), std::string::npos);
  EXPECT_NE(html.find("tau: 0.15\n"), std::string::npos);
  EXPECT_EQ(html.find("0.1499999"), std::string::npos);

  // --out writes elsewhere.
  const RunResult o = run_cli({"report", run, "--out", t.file("r.html")});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(slurp(t.file("r.html")), html);
}

TEST(ReportCli, SupervisedRunAndErrors) {
  TempDir t;
  const std::string run = train_tiny_run(t, "ssl.enabled=false");
  RunResult r = run_cli({"report", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = slurp(run + "/report.html");
  EXPECT_FALSE(figure(html, "plot-losses").empty());
  EXPECT_FALSE(figure(html, "plot-confusion").empty());
  EXPECT_TRUE(figure(html, "plot-tau").empty());
  EXPECT_NE(html.find("Not recorded in this run"), std::string::npos);

  r = run_cli({"report", t.file("nowhere")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such folder"), std::string::npos) << r.err;
  std::ofstream(run + "/metrics.jsonl", std::ios::app) << "{oops\n";
  r = run_cli({"report", run});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("metrics.jsonl:"), std::string::npos) << r.err;
  r = run_cli({"report", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Example"), std::string::npos) << r.out;
}

// The report as a browser shows it: Chromium parses the HTML and SVG into a
// DOM holding every figure with its drawing, and renders a page that is not
// blank.
TEST(ReportCli, RendersInHeadlessChromium) {
  if (::access(kChromium, X_OK) != 0)
    GTEST_SKIP() << kChromium
                 << " is absent (Debian package chromium; scripts/install-deps "
                    "--test installs it)";
  TempDir t;
  const std::string run = train_tiny_run(t, "");
  ASSERT_EQ(run_cli({"report", run}).exit_code, 0);
  const std::string url =
      "file://" + fs::absolute(run + "/report.html").string();

  ASSERT_EQ(chromium(t, "--dump-dom", url, t.file("dom.html")), 0)
      << slurp(t.file("chromium.log"));
  const std::string dom = slurp(t.file("dom.html"));
  ASSERT_NE(dom.find("<h1>Training report</h1>"), std::string::npos)
      << dom.substr(0, 500);
  for (const char* id : kPlots) {
    const std::string fig = figure(dom, id);
    ASSERT_FALSE(fig.empty()) << id << " is not in the rendered DOM";
    EXPECT_NE(fig.find("</svg>"), std::string::npos) << id;
    if (std::string(id) == "plot-confusion") {
      EXPECT_NE(fig.find("<rect class=\"cell\""), std::string::npos);
      EXPECT_NE(fig.find("<text class=\"count\""), std::string::npos);
    } else {
      EXPECT_NE(fig.find("<polyline class=\"series\""), std::string::npos)
          << id;
    }
  }

  const std::string png = t.file("shot.png");
  ASSERT_EQ(chromium(t, "--screenshot='" + png + "' --window-size=1200,3000",
                     url, t.file("shot.out")),
            0)
      << slurp(t.file("chromium.log"));
  ASSERT_TRUE(fs::exists(png)) << slurp(t.file("chromium.log"));
  const io::Image shot = io::read_image(png);
  EXPECT_EQ(shot.width, 1200);
  EXPECT_EQ(shot.height, 3000);
  // Not blank: text, axes and coloured lines and cells.
  int64_t ink = 0, coloured = 0;
  std::set<int> colours;
  for (size_t i = 0; i + 2 < shot.data.size(); i += 3) {
    const int r = shot.data[i], g = shot.data[i + 1], b = shot.data[i + 2];
    if (r + g + b < 600) ++ink;
    if (std::max({r, g, b}) - std::min({r, g, b}) > 80) ++coloured;
    colours.insert((r << 16) | (g << 8) | b);
  }
  const int64_t pixels = int64_t{shot.width} * shot.height;
  EXPECT_GT(ink, pixels / 200) << "the screenshot is (nearly) blank";
  EXPECT_GT(coloured, 1000) << "no coloured plot lines or heat-map cells";
  EXPECT_GT(colours.size(), 50u);
}

}  // namespace semifer::test
