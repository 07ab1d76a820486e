// Inline SVG charts written by cxrtune (no script, no external resource): line charts (linear
// or log y), grouped bar charts on a log axis with value labels, and heatmaps with a log10
// colour scale and legend. Every text is escaped.
#pragma once
#include <string>
#include <vector>

namespace cxr::svg {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string color;
  bool dashed = false;
  bool markers = false;
};

std::string line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                       const std::vector<Series>& series, bool log_y);

struct BarGroup {
  std::string name;          // e.g. a run
  std::vector<double> values;  // one per category
  std::string color;
};
// `format`: printf format for value labels (values are multiplied by `label_scale` first).
std::string bar_chart(const std::string& title, const std::string& ylabel, const std::vector<std::string>& categories,
                      const std::vector<BarGroup>& groups, const char* format, double label_scale);

// values[row][col]; NaN or <= 0 cells are grey.
std::string heatmap(const std::string& title, const std::vector<std::string>& rows,
                    const std::vector<std::string>& cols, const std::vector<std::vector<double>>& values);

// Log-axis ticks: the powers of ten spanning [lo, hi].
std::vector<double> log_ticks(double lo, double hi);
// Keeps at most `buckets` points per series, min and max of each bucket (extremes survive).
Series downsample(const Series& s, size_t buckets);

std::string palette(size_t i);

}  // namespace cxr::svg
