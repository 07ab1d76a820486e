// The frame every report chart shares: scales (linear or log10), tick choice, axes with labelled
// ticks and grid lines, the title, the legend, and display downsampling of long curves.
// Output is SVG markup without script or external references; every text passed in is escaped
// here. Coordinates are SVG user units in a viewBox of `Layout::width` × `Layout::height`.
#pragma once
#include <string>
#include <vector>

namespace cxr::svg {

// Plot area inside a fixed viewBox; the right margin holds the legend.
struct Layout {
  double width = 640, height = 340;
  double left = 70, right = 150, top = 40, bottom = 52;
  double plot_w() const { return width - left - right; }
  double plot_h() const { return height - top - bottom; }
};

// Maps data values to [0, 1] along an axis. `log`: log10 spacing, lo > 0 required.
struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  double frac(double v) const;
};

// A linear scale widened to "nice" ticks (1, 2, 5 × 10^k) around [lo, hi].
Scale nice_linear(double lo, double hi, bool include_zero);
// A log scale widened to whole powers of ten around [lo, hi] (both > 0).
Scale nice_log(double lo, double hi);

// Ticks at 1, 2, 5 × 10^k steps inside [lo, hi], about `target` of them.
std::vector<double> linear_ticks(double lo, double hi, int target = 5);
// The powers of ten within [lo, hi] (lo rounded down, hi rounded up to a power of ten first);
// empty when lo <= 0 or hi < lo.
std::vector<double> log_ticks(double lo, double hi);
// Tick text: plain decimals for 0.001…10000, otherwise SVG markup "10<tspan…>−5</tspan>".
// The result is markup (digits and minus signs only), never user text.
// `powers`: write every tick of the axis as a power of ten (one notation per axis).
std::string tick_markup(double v, bool log, bool powers = false);
// Whether a log axis over these ticks needs power notation (a tick outside 0.001…10000).
bool needs_powers(const std::vector<double>& ticks);

struct LegendEntry {
  enum class Mark { Line, Dashed, Box, Dot };
  std::string name;
  std::string color;
  Mark mark = Mark::Line;
};

// Helpers that return SVG markup for one piece of a chart.
std::string open_svg(const Layout& l, const std::string& title);  // <svg …><title>…<text class=title>
std::string close_svg();
std::string axis_labels(const Layout& l, const std::string& xlabel, const std::string& ylabel);
std::string y_axis(const Layout& l, const Scale& y);              // grid lines + tick labels
std::string x_axis(const Layout& l, const Scale& x);
std::string plot_frame(const Layout& l);
// The legend sits in the right margin and never leaves the chart: entries fill columns of
// kLegendRow units from the top to the bottom of the chart, as many columns as they need side by
// side, and a name wider than its column is cut with "…" (the whole name stays as a tooltip).
std::string legend(const Layout& l, const std::vector<LegendEntry>& entries);
// The right margin that shows `names` uncut, columns at most `max_column` wide (one column:
// 1.5 × that; a caller sets
// Layout::right to it before drawing, e.g. for one ROC curve per class).
double legend_margin(const Layout& l, const std::vector<std::string>& names, double max_column = 230);
// Legend geometry, shared by legend() and legend_margin() and checked by the tests.
constexpr double kLegendRow = 17, kLegendCharWidth = 6.4;  // 11 px text: average glyph under 6.4
size_t legend_rows(const Layout& l);                        // rows per column
size_t text_length(const std::string& utf8);                // code points
std::string no_data(const Layout& l);

// Number formatting for SVG attributes (one decimal place keeps pages small).
std::string f1(double v);

// Downsampling for display: at most 2 × `buckets` points; each bucket of consecutive points
// keeps its minimum and maximum (in their original order), so spikes and dips survive. A
// bucket holding a non-finite y also keeps one NaN point, which line charts draw as a gap.
void downsample(const std::vector<double>& x, const std::vector<double>& y, size_t buckets,
                std::vector<double>& out_x, std::vector<double>& out_y);

// Colour-blind-friendly categorical palette (Okabe–Ito order), cycling.
std::string palette(size_t i);

}  // namespace cxr::svg
