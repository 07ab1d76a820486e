// The report's three chart kinds as inline SVG: line charts (linear or log y), grouped bar
// charts on a log axis with value labels, and heatmaps with a log10 colour scale and legend.
// Each takes plain data plus texts (escaped here) and returns markup with a title, labelled axes
// and, where there is more than one series or group, a legend. Non-finite values are gaps
// (lines), a "0" label on the baseline (bars) or grey cells (heatmaps). No script, no ids, so
// several charts can share a page.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/svg_axes.h"

namespace cxr::svg {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string color = "#0072B2";
  bool dashed = false;
  bool markers = false;   // a dot per point (epoch values)
  double width = 1.6;
  double opacity = 1.0;
};

struct LineChart {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  bool log_y = false;
  std::optional<std::pair<double, double>> x_range, y_range;  // fixed instead of from data
  bool include_zero = false;      // linear y starts at 0
  bool chance_diagonal = false;   // ROC: the y = x line
  std::vector<double> x_marks;    // faint vertical lines (epoch boundaries)
  size_t display_buckets = 700;   // downsampling per series (min and max kept per bucket)
  Layout layout;
};
std::string line_chart(const LineChart& c);

struct BarGroup {
  std::string name;            // a run
  std::vector<double> values;  // one per category
  std::string color;
};
struct BarChart {
  std::string title, xlabel, ylabel;
  std::vector<std::string> categories;
  std::vector<BarGroup> groups;
  std::function<std::string(double)> label;  // value label text; empty: none
  Layout layout;
};
// Log y axis; bars grow from the bottom of the axis. Values <= 0 or NaN draw no bar and the
// label "0" (or "–" for NaN) on the baseline, so a frozen stage is visible as such.
std::string bar_chart(const BarChart& c);

struct Heatmap {
  std::string title, xlabel, ylabel, value_name;
  std::vector<std::string> rows, cols;
  std::vector<std::vector<double>> values;        // values[row][col]
  std::optional<std::pair<double, double>> range;  // log10 colour range; default from data
  Layout layout;
};
// One cell as drawn: the value, its colour ("#rrggbb", grey when value <= 0 or NaN).
struct HeatCell {
  double value;
  std::string color;
  bool valid;
};
// The log10 colour range of finite positive values: {min log10, max log10}; nullopt if none.
std::optional<std::pair<double, double>> log10_range(const std::vector<std::vector<double>>& values);
std::vector<std::vector<HeatCell>> heat_cells(const Heatmap& h);
std::string heatmap(const Heatmap& h);

// Viridis colour ramp, t in [0, 1].
std::string viridis(double t);

}  // namespace cxr::svg
