#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Plots as inline SVG text, for HTML reports that must open without a
/// network: line plots with axes, ticks and a legend, small multiples (a
/// panel per series), and a heat map for a confusion matrix. Every piece of
/// text is HTML-escaped here.
namespace semifer::eval {

/// Escapes text for HTML and SVG: & < > " ' become character references.
std::string html_escape(std::string_view text);

/// One line of a line plot: the points (x[i], y[i]) joined in order. A point
/// whose x or y is not finite is a gap: the line stops before it and starts
/// again after it.
struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
  bool dashed = false;  ///< drawn dashed (e.g. an overall mean among classes)
  std::string colour;   ///< CSS colour; empty: the next of a 10-colour palette
};

/// A line plot: axes with "nice" ticks (1, 2 or 5 times a power of ten),
/// grid lines, axis labels and a legend naming each series.
struct LinePlot {
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  /// Fixed ends of the y axis; where unset, the data's range widened to the
  /// next ticks.
  std::optional<double> y_min, y_max;
  /// Ticks on whole numbers only (steps, epochs).
  bool integer_x = false;
  int width = 760;
  int height = 340;
};

/// The plot as one `<svg>` element: per series a `<polyline
/// class="series">` (and `<circle>` markers when there are few points) and
/// a legend entry. A series with no finite point draws nothing.
std::string render_svg(const LinePlot& plot);

/// Small multiples: one small line plot (a panel) per series, in a grid,
/// all on the same x and y axes. For series that lie on top of each other
/// in one plot (per-class thresholds that the DTM sets nearly equal, or
/// fixed ones that are equal): each has its own panel, titled with its name,
/// so none hides another.
struct PanelPlot {
  std::string x_label;         ///< once, below the grid
  std::string y_label;         ///< once, left of the grid
  std::vector<Series> series;  ///< one panel each, in order
  /// Fixed ends of the shared y axis; where unset, the data's range widened
  /// to the next ticks.
  std::optional<double> y_min, y_max;
  bool integer_x = false;
  int columns = 4;
  int panel_width = 184;  ///< with its tick labels
  int panel_height = 132;
  /// A line of text above the panels ("all 7 classes equal: 0.95"); empty:
  /// none.
  std::string note;
};

/// The panels as one `<svg>`: per series a `<g class="panel"
/// data-name="NAME">` holding a `<text class="panel-title">` with the name,
/// a grid with ticks, the series' `<polyline class="series" data-name>`
/// (with `<circle>` markers when there are few points) and its last finite
/// value as `<text class="end-value">`; a series with no finite point says
/// "no data" in its panel. The note is a `<text class="note">`.
std::string render_svg(const PanelPlot& plot);

/// A matrix of counts drawn as coloured cells, each holding its count.
struct HeatMap {
  std::vector<std::string> row_labels;       ///< one per row, left
  std::vector<std::string> col_labels;       ///< one per column, below
  std::vector<std::vector<int64_t>> counts;  ///< [rows][cols]
  std::string row_title;                     ///< e.g. "true class"
  std::string col_title;                     ///< e.g. "predicted class"
};

/// The heat map as one `<svg>` element. A cell's colour is its count's share
/// of its row (white 0%, dark blue 100%), so every true class reads on the
/// same scale whatever its size; the cell's `<text class="count">` holds the
/// count. Each cell is a `<rect class="cell" data-row="r" data-col="c"
/// data-count="n">` with a tooltip. Throws semifer::Error when the labels do
/// not match the matrix's shape.
std::string render_svg(const HeatMap& map);

/// Tick positions covering [lo, hi]: about `target` of them, spaced 1, 2 or
/// 5 times a power of ten (at least 1 apart when `integer` is set). The
/// first is <= lo, the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 6,
                               bool integer = false);

}  // namespace semifer::eval
