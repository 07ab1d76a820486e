#include "reports/svg_axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "reports/html.h"

namespace cxr::svg {
namespace {

double step_for(double span, int target) {
  const double raw = span / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

}  // namespace

double Scale::frac(double v) const {
  if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return (v - lo) / (hi - lo);
}

Scale nice_linear(double lo, double hi, bool include_zero) {
  if (include_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (!(hi > lo)) hi = lo + (lo == 0 ? 1 : std::abs(lo) * 0.1);
  const double step = step_for(hi - lo, 5);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, false};
}

Scale nice_log(double lo, double hi) {
  double a = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
  double b = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
  if (!(b > a)) b = a * 10;
  return {a, b, true};
}

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!(hi > lo)) return t;
  const double step = step_for(hi - lo, target);
  // Multiples of the step computed afresh (not accumulated), so 0.6 is 0.6 and not 0.6000000000000001.
  const double first = std::ceil(lo / step - 1e-9);
  for (double i = first; i * step <= hi + step * 1e-9; i += 1) {
    const double v = i * step;
    const double rounded = std::round(v / step) * step;
    const double clean = std::stod(html::num("%.12g", rounded));
    t.push_back(clean == 0 ? 0.0 : clean);  // never "-0"
  }
  return t;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  if (!(lo > 0) || !(hi >= lo)) return t;
  const int a = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int b = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  for (int e = a; e <= b; ++e) t.push_back(std::pow(10.0, e));
  return t;
}

bool needs_powers(const std::vector<double>& ticks) {
  for (double t : ticks)
    if (t > 0 && (t < 1e-3 || t > 1e4)) return true;
  return false;
}

std::string tick_markup(double v, bool log, bool powers) {
  const double a = std::abs(v);
  if (log && a > 0 && (powers || a < 1e-3 || a > 1e4)) {
    const int e = static_cast<int>(std::lround(std::log10(a)));
    return std::string(v < 0 ? "−" : "") + "10<tspan dy='-5' font-size='75%'>" + (e < 0 ? "−" : "") +
           std::to_string(std::abs(e)) + "</tspan>";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  std::string s = buf;
  if (s.find('e') != std::string::npos) std::snprintf(buf, sizeof buf, "%.1e", v), s = buf;
  return s;
}

std::string f1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string open_svg(const Layout& l, const std::string& title) {
  const std::string t = html::escape(title);
  return "<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 " + f1(l.width) + " " + f1(l.height) +
         "' role='img' aria-label='" + t + "'><title>" + t + "</title><text x='" + f1(l.left) +
         "' y='22' class='title'>" + t + "</text>";
}

std::string close_svg() { return "</svg>"; }

std::string axis_labels(const Layout& l, const std::string& xlabel, const std::string& ylabel) {
  return "<text x='" + f1(l.left + l.plot_w() / 2) + "' y='" + f1(l.height - 10) + "' class='axis' text-anchor='middle'>" +
         html::escape(xlabel) + "</text><text transform='translate(16 " + f1(l.top + l.plot_h() / 2) +
         ") rotate(-90)' class='axis' text-anchor='middle'>" + html::escape(ylabel) + "</text>";
}

std::string plot_frame(const Layout& l) {
  return "<rect x='" + f1(l.left) + "' y='" + f1(l.top) + "' width='" + f1(l.plot_w()) + "' height='" + f1(l.plot_h()) +
         "' class='plot'/>";
}

std::string y_axis(const Layout& l, const Scale& y) {
  std::string out;
  const std::vector<double> ticks = y.log ? log_ticks(y.lo, y.hi) : linear_ticks(y.lo, y.hi);
  const bool powers = y.log && needs_powers(ticks);
  for (double t : ticks) {
    if (t < y.lo * (1 - 1e-9) - 1e-300 || t > y.hi * (1 + 1e-9) + 1e-300) continue;
    const double py = l.top + l.plot_h() * (1 - y.frac(t));
    out += "<line x1='" + f1(l.left) + "' x2='" + f1(l.left + l.plot_w()) + "' y1='" + f1(py) + "' y2='" + f1(py) +
           "' class='grid'/><text x='" + f1(l.left - 6) + "' y='" + f1(py + 3.5) + "' class='tick' text-anchor='end'>" +
           tick_markup(t, y.log, powers) + "</text>";
  }
  return out;
}

std::string x_axis(const Layout& l, const Scale& x) {
  std::string out;
  const std::vector<double> ticks = x.log ? log_ticks(x.lo, x.hi) : linear_ticks(x.lo, x.hi, 6);
  const bool powers = x.log && needs_powers(ticks);
  for (double t : ticks) {
    if (t < x.lo - 1e-12 || t > x.hi + 1e-12) continue;
    const double px = l.left + l.plot_w() * x.frac(t);
    out += "<line x1='" + f1(px) + "' x2='" + f1(px) + "' y1='" + f1(l.top + l.plot_h()) + "' y2='" +
           f1(l.top + l.plot_h() + 4) + "' class='axisline'/><text x='" + f1(px) + "' y='" + f1(l.top + l.plot_h() + 17) +
           "' class='tick' text-anchor='middle'>" + tick_markup(t, x.log, powers) + "</text>";
  }
  return out;
}

size_t text_length(const std::string& utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

size_t legend_rows(const Layout& l) {
  // The first row's centre is 8 below the plot's top; the last text must end 4 above the bottom.
  const double room = l.height - 4 - 3.5 - (l.top + 8);
  return static_cast<size_t>(std::max(0.0, std::floor(room / kLegendRow))) + 1;
}

namespace {

// Mark (16) and gap (6) before the text, and a little space after it.
constexpr double kLegendTextOffset = 22, kLegendPad = 8;

// The first `chars` code points of `utf8`.
std::string first_chars(const std::string& utf8, size_t chars) {
  size_t n = 0, i = 0;
  for (; i < utf8.size(); ++i)
    if ((static_cast<unsigned char>(utf8[i]) & 0xC0) != 0x80 && n++ == chars) break;
  return utf8.substr(0, i);
}

}  // namespace

double legend_margin(const Layout& l, const std::vector<std::string>& names, double max_column) {
  if (names.empty()) return 24;
  size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, text_length(n));
  const size_t columns = (names.size() + legend_rows(l) - 1) / legend_rows(l);
  // One column may take a long name whole; side by side, columns stay narrow and cut names.
  const double cap = columns == 1 ? 1.5 * max_column : max_column;
  const double column = std::min(cap, kLegendTextOffset + kLegendCharWidth * static_cast<double>(longest) + kLegendPad);
  return 12 + static_cast<double>(columns) * column;
}

std::string legend(const Layout& l, const std::vector<LegendEntry>& entries) {
  std::string out;
  if (entries.empty()) return out;
  const size_t rows = legend_rows(l);
  const size_t columns = (entries.size() + rows - 1) / rows;
  const double column = (l.right - 12) / static_cast<double>(columns);
  const double room = column - kLegendTextOffset - 2;
  const size_t max_chars = static_cast<size_t>(std::max(1.0, std::floor(room / kLegendCharWidth)));
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double x = l.left + l.plot_w() + 12 + column * static_cast<double>(i / rows);
    const double y = l.top + 8 + kLegendRow * static_cast<double>(i % rows);
    const std::string c = html::escape(e.color);
    switch (e.mark) {
      case LegendEntry::Mark::Box:
        out += "<rect x='" + f1(x) + "' y='" + f1(y - 5) + "' width='16' height='10' rx='1.5' fill='" + c + "'/>";
        break;
      case LegendEntry::Mark::Dot:
        out += "<line x1='" + f1(x) + "' x2='" + f1(x + 16) + "' y1='" + f1(y) + "' y2='" + f1(y) + "' stroke='" + c +
               "' stroke-width='1.5' stroke-dasharray='4 3'/><circle cx='" + f1(x + 8) + "' cy='" + f1(y) +
               "' r='3' fill='" + c + "'/>";
        break;
      default:
        out += "<line x1='" + f1(x) + "' x2='" + f1(x + 16) + "' y1='" + f1(y) + "' y2='" + f1(y) + "' stroke='" + c +
               "' stroke-width='2.5'" + (e.mark == LegendEntry::Mark::Dashed ? " stroke-dasharray='4 3'" : "") + "/>";
    }
    const bool cut = text_length(e.name) > max_chars;
    const std::string shown = cut ? first_chars(e.name, max_chars - 1) + "…" : e.name;
    const std::string text = "<text x='" + f1(x + kLegendTextOffset) + "' y='" + f1(y + 3.5) + "' class='legend'>" +
                             html::escape(shown) + "</text>";
    out += cut ? "<g><title>" + html::escape(e.name) + "</title>" + text + "</g>" : text;
  }
  return out;
}

std::string no_data(const Layout& l) {
  return "<text x='" + f1(l.left + l.plot_w() / 2) + "' y='" + f1(l.top + l.plot_h() / 2) +
         "' class='axis' text-anchor='middle'>no data</text>";
}

void downsample(const std::vector<double>& x, const std::vector<double>& y, size_t buckets, std::vector<double>& out_x,
                std::vector<double>& out_y) {
  out_x.clear();
  out_y.clear();
  const size_t n = std::min(x.size(), y.size());
  if (buckets == 0 || n <= 2 * buckets) {
    out_x.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
    out_y.assign(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n));
    return;
  }
  const size_t per = (n + buckets - 1) / buckets;
  for (size_t b = 0; b < n; b += per) {
    const size_t e = std::min(n, b + per);
    size_t lo = e, hi = e, bad = e;
    for (size_t i = b; i < e; ++i) {
      if (!std::isfinite(y[i])) {
        if (bad == e) bad = i;
        continue;
      }
      if (lo == e || y[i] < y[lo]) lo = i;
      if (hi == e || y[i] > y[hi]) hi = i;
    }
    size_t keep[3] = {lo, hi, bad};
    std::sort(keep, keep + 3);
    for (size_t k = 0; k < 3; ++k) {
      if (keep[k] == e || (k > 0 && keep[k] == keep[k - 1])) continue;
      out_x.push_back(x[keep[k]]);
      out_y.push_back(y[keep[k]]);
    }
  }
}

std::string palette(size_t i) {
  static const char* colors[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"};
  return colors[i % 8];
}

}  // namespace cxr::svg
