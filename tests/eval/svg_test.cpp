// SVG plots for the report: ticks, escaping, line plots and heat maps.
#include "semifer/eval/svg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/support.h"

namespace semifer::test {

namespace {
size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos;
       at = s.find(part, at + 1))
    ++n;
  return n;
}
}  // namespace

TEST(Svg, NiceTicksCoverTheRangeInRoundSteps) {
  const auto unit = eval::nice_ticks(0, 1, 6);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * i, 1e-12);
  const auto steps = eval::nice_ticks(5, 30, 7, /*integer=*/true);
  EXPECT_EQ(steps, (std::vector<double>{5, 10, 15, 20, 25, 30}));
  const auto tau = eval::nice_ticks(0.912, 0.95, 6);
  EXPECT_LE(tau.front(), 0.912);
  EXPECT_GE(tau.back(), 0.95);
  EXPECT_GE(tau.size(), 4u);
  EXPECT_LE(tau.size(), 8u);
  // A single value still gets an axis around it; integer ticks stay whole.
  const auto one = eval::nice_ticks(3, 3, 6, true);
  EXPECT_LE(one.front(), 2);
  EXPECT_GE(one.back(), 4);
  for (double t : one) EXPECT_EQ(t, std::round(t));
}

TEST(Svg, AbsurdValuesStillGiveAnAxis) {
  for (auto [lo, hi] : {std::pair<double, double>{1e9, 1e9 + 1e-7},
                        {-1e308, 1e308},
                        {0, std::numeric_limits<double>::infinity()}}) {
    const auto ticks = eval::nice_ticks(lo, hi, 6);
    ASSERT_GE(ticks.size(), 2u) << lo << " " << hi;
    ASSERT_LE(ticks.size(), 40u) << lo << " " << hi;
    for (double t : ticks) EXPECT_TRUE(std::isfinite(t));
  }
  eval::LinePlot p;
  p.y_min = 0.0;
  p.y_max = 1.0;
  p.series.push_back({"huge", {1, 2, 3}, {1e308, -1e308, 0.5}});
  const std::string svg = eval::render_svg(p);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(Svg, EscapesMarkup) {
  EXPECT_EQ(eval::html_escape("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
}

TEST(Svg, LinePlotDrawsEachSeriesWithALegend) {
  eval::LinePlot p;
  p.x_label = "step <x>";
  p.y_label = "loss";
  p.integer_x = true;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  p.series.push_back({"first", {1, 2, 3, 4}, {0.5, nan, 0.2, 0.4}});
  p.series.push_back({"second & more", {1, 2, 3}, {0.1, 0.2, 0.3}, true});
  p.series.push_back({"empty", {}, {}});
  const std::string svg = eval::render_svg(p);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  // "first" is two lines around its NaN point, "second" one, "empty" none.
  EXPECT_EQ(count(svg, "<polyline class=\"series\""), 3u);
  EXPECT_EQ(count(svg, "class=\"legend\""), 3u);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find(">second &amp; more</text>"), std::string::npos);
  EXPECT_NE(svg.find(">step &lt;x&gt;</text>"), std::string::npos);
  // The NaN point is a gap: a line of one point, then one of two; three
  // markers for "first".
  const auto at = svg.find("data-name=\"first\"");
  const auto p0 = svg.find("points=\"", at) + 8;
  const std::string points = svg.substr(p0, svg.find('"', p0) - p0);
  EXPECT_EQ(count(points, ","), 1u) << points;
  const auto at2 = svg.find("data-name=\"first\"", at + 1);
  ASSERT_NE(at2, std::string::npos);
  const auto p1 = svg.find("points=\"", at2) + 8;
  const std::string points2 = svg.substr(p1, svg.find('"', p1) - p1);
  EXPECT_EQ(count(points2, ","), 2u) << points2;
  EXPECT_EQ(count(svg, "<circle"), 6u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(Svg, PanelPlotGivesEachSeriesItsOwnPanel) {
  eval::PanelPlot p;
  p.x_label = "epoch";
  p.y_label = "tau";
  p.integer_x = true;
  p.note = "all <3> equal";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  p.series.push_back({"a", {0, 1, 2}, {0.9, 0.9, 0.9}});
  p.series.push_back({"b & c", {0, 1, 2}, {0.9, 0.9, 0.9}});
  p.series.push_back({"d", {0, 1, 2}, {0.9, nan, 0.8}});
  p.series.push_back({"none", {0}, {nan}});
  p.series.push_back({"e", {0, 1, 2}, {0.7, 0.8, 0.85}});
  p.columns = 2;
  const std::string svg = eval::render_svg(p);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "<g class=\"panel\""), 5u);
  EXPECT_EQ(count(svg, "class=\"panel-title\""), 5u);
  EXPECT_NE(svg.find(">b &amp; c</text>"), std::string::npos);
  // Equal series are drawn alike in their own panels; "d" has a gap.
  EXPECT_EQ(count(svg, "<polyline class=\"series\""), 5u);
  EXPECT_EQ(count(svg, "<polyline class=\"series\" data-name=\"d\""), 2u);
  EXPECT_EQ(count(svg, ">last 0.9</text>"), 2u);
  EXPECT_NE(svg.find(">last 0.8</text>"), std::string::npos);
  EXPECT_NE(svg.find(">last 0.85</text>"), std::string::npos);
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_NE(svg.find("<text class=\"note\""), std::string::npos);
  EXPECT_NE(svg.find(">all &lt;3&gt; equal</text>"), std::string::npos);
  // Two columns, three rows: the panels of one row share a top.
  const auto y_of = [&](const std::string& name) {
    const auto g = svg.find("<g class=\"panel\" data-name=\"" + name + "\"");
    const auto y = svg.find("y=\"", g) + 3;
    return svg.substr(y, svg.find('"', y) - y);
  };
  EXPECT_EQ(y_of("a"), y_of("b &amp; c"));
  EXPECT_NE(y_of("a"), y_of("d"));
  EXPECT_EQ(y_of("d"), y_of("none"));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(Svg, HeatMapWritesCountsAndChecksItsShape) {
  eval::HeatMap h;
  h.row_labels = h.col_labels = {"a", "b"};
  h.counts = {{3, 1}, {0, 0}};
  h.row_title = "true class";
  h.col_title = "predicted class";
  const std::string svg = eval::render_svg(h);
  EXPECT_EQ(count(svg, "<rect class=\"cell\""), 4u);
  EXPECT_NE(svg.find("data-row=\"0\" data-col=\"0\" data-count=\"3\""),
            std::string::npos);
  EXPECT_NE(svg.find(">3</text>"), std::string::npos);
  EXPECT_NE(svg.find("(75.0% of the row)"), std::string::npos);
  // An empty row is white, not a division by zero.
  EXPECT_NE(svg.find("data-count=\"0\" x=\""), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  h.col_labels = {"a"};
  expect_error([&] { eval::render_svg(h); }, {"heat map", "column labels"});
}

}  // namespace semifer::test
