#include "semifer/eval/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "semifer/util/error.h"

namespace semifer::eval {

namespace {

// Matplotlib's "tab10": distinct on screen and in greyscale print.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                    "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                    "#bcbd22", "#17becf"};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  std::string s = buf;
  // No "-0.00".
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos)
    s = s.substr(1);
  return s;
}

// "0.950" -> "0.95", "1.00" -> "1".
std::string trimmed(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

// A tenth of a CSS pixel is finer than any screen shows.
std::string px(double v) { return fixed(v, 1); }

// Decimals that tell ticks `step` apart: 0.05 needs 2, 0.2 needs 1.
int tick_decimals(double step) {
  if (step >= 1) return 0;
  return std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
}

struct Range {
  double lo = 0, hi = 1;
  bool empty = true;
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = empty ? v : std::min(lo, v);
    hi = empty ? v : std::max(hi, v);
    empty = false;
  }
};

// Interpolates white -> dark blue.
std::string heat_colour(double f) {
  f = std::clamp(f, 0.0, 1.0);
  const int r = static_cast<int>(std::lround(255 + (8 - 255) * f));
  const int g = static_cast<int>(std::lround(255 + (81 - 255) * f));
  const int b = static_cast<int>(std::lround(255 + (156 - 255) * f));
  char buf[16];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", r, g, b);
  return buf;
}

// Rough width of a label in the 12 px sans-serif used in the plots.
double text_width(const std::string& s) { return 7.0 * s.size(); }

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  // A range too narrow for doubles to step through gets an axis around it.
  if (hi - lo < 1e-12 ||
      hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-9) {
    const double pad = integer ? 1.0 : (lo != 0 ? std::abs(lo) * 0.1 : 1.0);
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw * (1 - 1e-9)) {
      step = m * mag;
      break;
    }
  }
  if (integer) step = std::max(1.0, std::round(step));
  const double start = std::floor(lo / step + 1e-9) * step;
  const double end = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (int i = 0; i <= 4 * target + 8 && start + i * step <= end + step * 1e-6;
       ++i) {
    const double t = start + i * step;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  // Values near the limits of double (1e308) overflow the arithmetic above;
  // such data still gets an axis, not a crash.
  bool sane = ticks.size() >= 2;
  for (size_t i = 1; sane && i < ticks.size(); ++i)
    sane = std::isfinite(ticks[i]) && ticks[i] > ticks[i - 1];
  if (!sane) return {0.0, 1.0};
  return ticks;
}

namespace {

// Ticks and ends of the axes of some series.
struct Scale {
  std::vector<double> xt, yt;
  double xa = 0, xb = 1, ya = 0, yb = 1;
};

Scale scale_for(const std::vector<Series>& series, std::optional<double> y_min,
                std::optional<double> y_max, bool integer_x, int x_ticks,
                int y_ticks) {
  Range xr, yr;
  for (const auto& s : series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
    }
  }
  Scale sc;
  sc.xt = nice_ticks(xr.lo, xr.hi, x_ticks, integer_x);
  if (y_min && y_max && *y_max > *y_min) {
    sc.ya = *y_min;
    sc.yb = *y_max;
    for (double t : nice_ticks(sc.ya, sc.yb, y_ticks)) {
      if (t >= sc.ya - 1e-9 && t <= sc.yb + 1e-9) sc.yt.push_back(t);
    }
  } else {
    double lo = y_min ? *y_min : yr.lo;
    double hi = y_max ? *y_max : yr.hi;
    if (y_min) hi = std::max(hi, lo);
    if (y_max) lo = std::min(lo, hi);
    sc.yt = nice_ticks(lo, hi, y_ticks);
    sc.ya = sc.yt.front();
    sc.yb = sc.yt.back();
  }
  sc.xa = sc.xt.front();
  sc.xb = sc.xt.back();
  return sc;
}

// Data coordinates inside the clipping <svg> of a plot area: that <svg>
// reaches `kPad` beyond the area so lines and markers on its edges show
// whole.
constexpr double kPad = 4;

// A plot area [x0, x1] x [y0, y1] (y0 at the top) under a scale.
struct Area {
  double x0, y0, x1, y1;
  const Scale* sc;
  // Far-off points (outside fixed limits, or absurd values) are clamped to
  // a finite position well outside the clipped area.
  double sx(double x) const {
    return std::clamp(kPad + (x - sc->xa) / (sc->xb - sc->xa) * (x1 - x0), -1e5,
                      1e5);
  }
  double sy(double y) const {
    return std::clamp(kPad + (sc->yb - y) / (sc->yb - sc->ya) * (y1 - y0), -1e5,
                      1e5);
  }
};

// Grid lines, tick labels and the axes of `a`.
void draw_grid(std::ostringstream& o, const Area& a) {
  const Scale& sc = *a.sc;
  const int xd = tick_decimals(sc.xt.size() > 1 ? sc.xt[1] - sc.xt[0] : 1);
  for (double t : sc.xt) {
    const double x = a.x0 - kPad + a.sx(t);
    o << "<line class=\"grid\" x1=\"" << px(x) << "\" y1=\"" << px(a.y0)
      << "\" x2=\"" << px(x) << "\" y2=\"" << px(a.y1)
      << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << px(x) << "\" y=\""
      << px(a.y1 + 16) << "\" text-anchor=\"middle\">" << fixed(t, xd)
      << "</text>\n";
  }
  const int yd = tick_decimals(sc.yt.size() > 1 ? sc.yt[1] - sc.yt[0] : 1);
  for (double t : sc.yt) {
    const double y = a.y0 - kPad + a.sy(t);
    o << "<line class=\"grid\" x1=\"" << px(a.x0) << "\" y1=\"" << px(y)
      << "\" x2=\"" << px(a.x1) << "\" y2=\"" << px(y)
      << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << px(a.x0 - 6) << "\" y=\""
      << px(y + 4) << "\" text-anchor=\"end\">" << fixed(t, yd) << "</text>\n";
  }
  o << "<polyline class=\"axes\" fill=\"none\" stroke=\"#333\" points=\""
    << px(a.x0) << "," << px(a.y0) << " " << px(a.x0) << "," << px(a.y1) << " "
    << px(a.x1) << "," << px(a.y1) << "\"/>\n";
}

// Opens the nested <svg> that clips the data to `a` (no ids needed): values
// outside fixed y limits do not spill over the axes.
void open_clip(std::ostringstream& o, const Area& a) {
  o << "<svg x=\"" << px(a.x0 - kPad) << "\" y=\"" << px(a.y0 - kPad)
    << "\" width=\"" << px(a.x1 - a.x0 + 2 * kPad) << "\" height=\""
    << px(a.y1 - a.y0 + 2 * kPad) << "\" overflow=\"hidden\">\n";
}

// The lines of `s` (one polyline per run of finite points: a non-finite
// point is a gap) and, for few points, a marker per point; returns the
// number of finite points.
size_t draw_series(std::ostringstream& o, const Area& a, const Series& s,
                   const std::string& colour) {
  size_t n = 0;
  std::string points;
  auto flush = [&] {
    if (points.empty()) return;
    o << "<polyline class=\"series\" data-name=\"" << html_escape(s.name)
      << "\" fill=\"none\" stroke=\"" << html_escape(colour)
      << "\" stroke-width=\"1.8\" stroke-linejoin=\"round\""
      << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"" << points
      << "\"/>\n";
    points.clear();
  };
  const size_t count = std::min(s.x.size(), s.y.size());
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
      flush();
      continue;
    }
    points +=
        (points.empty() ? "" : " ") + px(a.sx(s.x[i])) + "," + px(a.sy(s.y[i]));
    ++n;
  }
  flush();
  if (n <= 40) {
    for (size_t i = 0; i < count; ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      o << "<circle cx=\"" << px(a.sx(s.x[i])) << "\" cy=\"" << px(a.sy(s.y[i]))
        << "\" r=\"2.5\" fill=\"" << html_escape(colour) << "\"/>\n";
    }
  }
  return n;
}

void open_svg(std::ostringstream& o, double width, double height) {
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width)
    << "\" height=\"" << px(height) << "\" viewBox=\"0 0 " << px(width) << " "
    << px(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
}

// The x and y axis labels: x centred on [x0, x1] at `x_base`, y turned on
// the left edge, centred on [y0, y1].
void axis_labels(std::ostringstream& o, const std::string& x_label,
                 const std::string& y_label, double x0, double x1,
                 double x_base, double y0, double y1) {
  o << "<text class=\"x-label\" x=\"" << px((x0 + x1) / 2) << "\" y=\""
    << px(x_base) << "\" text-anchor=\"middle\">" << html_escape(x_label)
    << "</text>\n";
  o << "<text class=\"y-label\" transform=\"translate(14," << px((y0 + y1) / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << html_escape(y_label)
    << "</text>\n";
}

}  // namespace

std::string render_svg(const LinePlot& plot) {
  const double left = 64, right = 180, top = 14, bottom = 46;
  const double width = plot.width;
  const double height =
      std::max<double>(plot.height, top + 18.0 * plot.series.size() + bottom);
  const Scale sc =
      scale_for(plot.series, plot.y_min, plot.y_max, plot.integer_x, 7, 6);
  const Area a{left, top, width - right, height - bottom, &sc};

  std::ostringstream o;
  open_svg(o, width, height);
  draw_grid(o, a);
  axis_labels(o, plot.x_label, plot.y_label, a.x0, a.x1, height - 8, a.y0,
              a.y1);
  open_clip(o, a);
  std::vector<std::string> colours;
  size_t next_colour = 0;
  for (const auto& s : plot.series) {
    colours.push_back(s.colour.empty() ? kPalette[next_colour++ % 10]
                                       : s.colour);
    draw_series(o, a, s, colours.back());
  }
  o << "</svg>\n";

  // Legend, right of the plot area.
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const double y = a.y0 + 8 + 18.0 * i;
    o << "<g class=\"legend\"><line x1=\"" << px(a.x1 + 14) << "\" y1=\""
      << px(y) << "\" x2=\"" << px(a.x1 + 38) << "\" y2=\"" << px(y)
      << "\" stroke=\"" << html_escape(colours[i]) << "\" stroke-width=\"2.5\""
      << (plot.series[i].dashed ? " stroke-dasharray=\"6 4\"" : "")
      << "/><text x=\"" << px(a.x1 + 44) << "\" y=\"" << px(y + 4) << "\">"
      << html_escape(plot.series[i].name) << "</text></g>\n";
  }
  o << "</svg>";
  return o.str();
}

std::string render_svg(const PanelPlot& plot) {
  const size_t n = plot.series.size();
  const size_t cols =
      std::max<size_t>(1, std::min<size_t>(std::max(plot.columns, 1), n));
  const size_t rows = (n + cols - 1) / cols;
  const double left = 24, note_h = plot.note.empty() ? 0 : 22, bottom = 30;
  const double pw = std::max(plot.panel_width, 120);
  const double ph = std::max(plot.panel_height, 90);
  const double width = left + cols * pw + 8;
  const double height = note_h + rows * ph + bottom;
  // Fewer ticks than a full plot: a panel is a quarter as wide.
  const Scale sc =
      scale_for(plot.series, plot.y_min, plot.y_max, plot.integer_x, 4, 4);
  // The last value two digits finer than the ticks: panels of nearly equal
  // series (0.782 and 0.786) still read apart.
  const int value_decimals = std::min(
      4, tick_decimals(sc.yt.size() > 1 ? sc.yt[1] - sc.yt[0] : 1) + 2);

  std::ostringstream o;
  open_svg(o, width, height);
  if (!plot.note.empty()) {
    o << "<text class=\"note\" x=\"" << px(left) << "\" y=\"15\">"
      << html_escape(plot.note) << "</text>\n";
  }
  for (size_t i = 0; i < n; ++i) {
    const Series& s = plot.series[i];
    const std::string colour = s.colour.empty() ? kPalette[i % 10] : s.colour;
    const double cx = left + pw * (i % cols), cy = note_h + ph * (i / cols);
    const Area a{cx + 44, cy + 24, cx + pw - 12, cy + ph - 22, &sc};
    o << "<g class=\"panel\" data-name=\"" << html_escape(s.name) << "\">\n"
      << "<text class=\"panel-title\" x=\"" << px(cx + 6) << "\" y=\""
      << px(cy + 14) << "\" font-weight=\"bold\" fill=\"" << html_escape(colour)
      << "\">" << html_escape(s.name) << "</text>\n";
    draw_grid(o, a);
    open_clip(o, a);
    draw_series(o, a, s, colour);
    o << "</svg>\n";
    std::optional<double> last;
    for (size_t k = std::min(s.x.size(), s.y.size()); k-- > 0;) {
      if (std::isfinite(s.x[k]) && std::isfinite(s.y[k])) {
        last = s.y[k];
        break;
      }
    }
    if (!last) {
      o << "<text class=\"end-value\" x=\"" << px((a.x0 + a.x1) / 2)
        << "\" y=\"" << px((a.y0 + a.y1) / 2) << "\" text-anchor=\"middle\" "
        << "fill=\"#777\">no data</text>\n";
    } else {
      o << "<text class=\"end-value\" x=\"" << px(a.x1) << "\" y=\""
        << px(cy + 14) << "\" text-anchor=\"end\" font-size=\"10\" "
        << "fill=\"#555\">last " << trimmed(fixed(*last, value_decimals))
        << "</text>\n";
    }
    o << "</g>\n";
  }
  axis_labels(o, plot.x_label, plot.y_label, left, width - 8, height - 8,
              note_h, note_h + rows * ph);
  o << "</svg>";
  return o.str();
}

std::string render_svg(const HeatMap& map) {
  const size_t rows = map.counts.size();
  SEMIFER_CHECK(map.row_labels.size() == rows, "heat map: ", rows, " rows but ",
                map.row_labels.size(), " row labels");
  const size_t cols = map.col_labels.size();
  for (const auto& r : map.counts) {
    SEMIFER_CHECK(r.size() == cols, "heat map: a row of ", r.size(),
                  " counts for ", cols, " column labels");
  }
  const double cell = 48;
  double row_label_w = 0, col_label_w = 0;
  for (const auto& l : map.row_labels)
    row_label_w = std::max(row_label_w, text_width(l));
  for (const auto& l : map.col_labels)
    col_label_w = std::max(col_label_w, text_width(l));
  const double gx = 28 + row_label_w + 8, gy = 10;
  const double gw = cell * cols, gh = cell * rows;
  // Column labels are turned 45 degrees: they need about 0.71 of their width
  // below the grid.
  const double below = 14 + col_label_w * 0.71 + 26;
  const double bar_x = gx + gw + 24;
  const double width = bar_x + 14 + 76, height = gy + gh + below;

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width)
    << "\" height=\"" << px(height) << "\" viewBox=\"0 0 " << px(width) << " "
    << px(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  for (size_t r = 0; r < rows; ++r) {
    int64_t total = 0;
    for (int64_t c : map.counts[r]) total += c;
    const double y = gy + cell * r;
    o << "<text class=\"row-label\" x=\"" << px(gx - 6) << "\" y=\""
      << px(y + cell / 2 + 4) << "\" text-anchor=\"end\">"
      << html_escape(map.row_labels[r]) << "</text>\n";
    for (size_t c = 0; c < cols; ++c) {
      const int64_t n = map.counts[r][c];
      const double f = total > 0 ? static_cast<double>(n) / total : 0.0;
      const double x = gx + cell * c;
      o << "<rect class=\"cell\" data-row=\"" << r << "\" data-col=\"" << c
        << "\" data-count=\"" << n << "\" x=\"" << px(x) << "\" y=\"" << px(y)
        << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\""
        << heat_colour(f) << "\" stroke=\"#ccc\"><title>"
        << html_escape(map.row_title) << " " << html_escape(map.row_labels[r])
        << ", " << html_escape(map.col_title) << " "
        << html_escape(map.col_labels[c]) << ": " << n << " ("
        << fixed(100 * f, 1) << "% of the row)</title></rect>\n";
      o << "<text class=\"count\" x=\"" << px(x + cell / 2) << "\" y=\""
        << px(y + cell / 2 + 4) << "\" text-anchor=\"middle\" fill=\""
        << (f > 0.55 ? "#fff"
            : n == 0 ? "#aaa"
                     : "#111")
        << "\"" << (n >= 100000 ? " font-size=\"9\"" : "") << ">" << n
        << "</text>\n";
    }
  }
  for (size_t c = 0; c < cols; ++c) {
    const double x = gx + cell * c + cell / 2;
    o << "<text class=\"col-label\" text-anchor=\"end\" transform=\"translate("
      << px(x + 4) << "," << px(gy + gh + 12) << ") rotate(-45)\">"
      << html_escape(map.col_labels[c]) << "</text>\n";
  }
  o << "<text class=\"y-label\" transform=\"translate(14," << px(gy + gh / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << html_escape(map.row_title)
    << "</text>\n";
  o << "<text class=\"x-label\" x=\"" << px(gx + gw / 2) << "\" y=\""
    << px(height - 8) << "\" text-anchor=\"middle\">"
    << html_escape(map.col_title) << "</text>\n";
  // Colour bar: the share of a row, top 100%, bottom 0%, in 20 bands so it
  // needs no gradient id.
  const int bands = 20;
  for (int i = 0; i < bands; ++i) {
    o << "<rect class=\"scale\" x=\"" << px(bar_x) << "\" y=\""
      << px(gy + gh * i / bands) << "\" width=\"14\" height=\""
      << px(gh / bands + 0.5) << "\" fill=\""
      << heat_colour(1.0 - (i + 0.5) / bands) << "\"/>\n";
  }
  o << "<rect x=\"" << px(bar_x) << "\" y=\"" << px(gy)
    << "\" width=\"14\" height=\"" << px(gh)
    << "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (int pct : {0, 50, 100}) {
    o << "<text x=\"" << px(bar_x + 18) << "\" y=\""
      << px(gy + gh * (100 - pct) / 100.0 + 4) << "\">" << pct << "%</text>\n";
  }
  o << "<text x=\"" << px(bar_x + 62) << "\" y=\"" << px(gy + gh / 2)
    << "\" transform=\"rotate(-90," << px(bar_x + 62) << "," << px(gy + gh / 2)
    << ")\" text-anchor=\"middle\">share of the row</text>\n";
  o << "</svg>";
  return o.str();
}

}  // namespace semifer::eval
