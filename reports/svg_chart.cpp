#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "reports/html.h"

namespace cxr::svg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

std::string hex(int r, int g, int b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
  return buf;
}

}  // namespace

std::string viridis(double t) {
  static const int stops[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  auto mix = [&](int k) { return static_cast<int>(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]))); };
  return hex(mix(0), mix(1), mix(2));
}

std::string line_chart(const LineChart& c) {
  const Layout& l = c.layout;
  std::vector<Series> shown(c.series.size());
  double x0 = kInf, x1 = -kInf, y0 = kInf, y1 = -kInf;
  for (size_t k = 0; k < c.series.size(); ++k) {
    shown[k] = c.series[k];
    downsample(c.series[k].x, c.series[k].y, c.display_buckets, shown[k].x, shown[k].y);
    for (size_t i = 0; i < shown[k].x.size(); ++i) {
      if (!usable(shown[k].y[i], c.log_y) || !std::isfinite(shown[k].x[i])) continue;
      x0 = std::min(x0, shown[k].x[i]), x1 = std::max(x1, shown[k].x[i]);
      y0 = std::min(y0, shown[k].y[i]), y1 = std::max(y1, shown[k].y[i]);
    }
  }
  std::string out = open_svg(l, c.title) + axis_labels(l, c.xlabel, c.ylabel);
  if (!std::isfinite(x0) && !c.x_range) return out + plot_frame(l) + no_data(l) + close_svg();
  Scale xs = c.x_range ? Scale{c.x_range->first, c.x_range->second, false} : nice_linear(x0, x1, false);
  if (!c.x_range && x0 >= 0 && xs.lo < 0) xs.lo = 0;
  Scale ys;
  if (c.y_range) ys = {c.y_range->first, c.y_range->second, c.log_y};
  else if (!std::isfinite(y0)) ys = c.log_y ? Scale{0.1, 1, true} : Scale{0, 1, false};
  else ys = c.log_y ? nice_log(y0, y1) : nice_linear(y0, y1, c.include_zero);
  auto px = [&](double x) { return l.left + l.plot_w() * std::clamp(xs.frac(x), 0.0, 1.0); };
  auto py = [&](double y) { return l.top + l.plot_h() * (1 - std::clamp(ys.frac(y), -0.02, 1.02)); };
  out += plot_frame(l) + y_axis(l, ys) + x_axis(l, xs);
  for (double m : c.x_marks)
    if (m > xs.lo && m < xs.hi)
      out += "<line x1='" + f1(px(m)) + "' x2='" + f1(px(m)) + "' y1='" + f1(l.top) + "' y2='" + f1(l.top + l.plot_h()) +
             "' class='mark'/>";
  if (c.chance_diagonal)
    out += "<line x1='" + f1(px(xs.lo)) + "' y1='" + f1(py(ys.lo)) + "' x2='" + f1(px(xs.hi)) + "' y2='" + f1(py(ys.hi)) +
           "' class='chance'/>";
  std::vector<LegendEntry> entries;
  for (const Series& s : shown) {
    const std::string color = html::escape(s.color);
    std::string d;
    bool pen_down = false;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.y[i], c.log_y)) {
        pen_down = false;
        continue;
      }
      d.append(pen_down ? " " : "M").append(f1(px(s.x[i]))).append(",").append(f1(py(s.y[i])));
      pen_down = true;
    }
    if (!d.empty())
      out += "<path d='" + d + "' fill='none' stroke='" + color + "' stroke-width='" + f1(s.width) +
             "' stroke-linejoin='round'" + (s.dashed ? " stroke-dasharray='5 3'" : "") +
             (s.opacity < 1 ? " stroke-opacity='" + html::num("%.2f", s.opacity) + "'" : "") + "/>";
    if (s.markers && s.x.size() <= 300)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (usable(s.y[i], c.log_y))
          out += "<circle cx='" + f1(px(s.x[i])) + "' cy='" + f1(py(s.y[i])) + "' r='2.8' fill='" + color + "'/>";
    if (!s.name.empty())
      entries.push_back({s.name, s.color,
                         s.markers ? LegendEntry::Mark::Dot : (s.dashed ? LegendEntry::Mark::Dashed : LegendEntry::Mark::Line)});
  }
  if (entries.size() > 1 || l.right >= 100) out += legend(l, entries);
  return out + close_svg();
}

std::string bar_chart(const BarChart& c) {
  const Layout& l = c.layout;
  double lo = kInf, hi = 0;
  for (const BarGroup& g : c.groups)
    for (double v : g.values)
      if (usable(v, true)) lo = std::min(lo, v), hi = std::max(hi, v);
  std::string out = open_svg(l, c.title) + axis_labels(l, c.xlabel, c.ylabel);
  if (!(hi > 0) || c.categories.empty()) return out + plot_frame(l) + no_data(l) + close_svg();
  Scale ys = nice_log(lo, hi);
  const bool rotated = c.groups.size() > 1;
  const double headroom = !c.label ? 4 : rotated ? 46 : 16;
  // Room above the tallest bar for its label: stretch the top just enough (ticks stay at powers of ten).
  const double need = std::min(0.5, headroom / l.plot_h());
  if (1 - ys.frac(hi) < need) ys.hi = ys.lo * std::pow(hi / ys.lo, 1 / (1 - need));
  auto py = [&](double v) { return l.top + l.plot_h() * (1 - ys.frac(v)); };
  out += plot_frame(l) + y_axis(l, ys);
  const double slot = l.plot_w() / static_cast<double>(c.categories.size());
  const double bw = slot * 0.78 / static_cast<double>(std::max<size_t>(1, c.groups.size()));
  const double base = l.top + l.plot_h();
  for (size_t k = 0; k < c.categories.size(); ++k) {
    const double sx = l.left + slot * static_cast<double>(k);
    out += "<text x='" + f1(sx + slot / 2) + "' y='" + f1(base + 17) + "' class='tick' text-anchor='middle'>" +
           html::escape(c.categories[k]) + "</text>";
    for (size_t g = 0; g < c.groups.size(); ++g) {
      const double v = k < c.groups[g].values.size() ? c.groups[g].values[k] : std::nan("");
      const double x = sx + slot * 0.11 + bw * static_cast<double>(g);
      const double cx = x + bw / 2;
      const std::string text = c.label ? html::escape(std::isfinite(v) && v <= 0 ? "0" : c.label(v)) : "";
      double top = base;
      if (usable(v, true)) {
        top = py(v);
        out += "<rect x='" + f1(x + 0.5) + "' y='" + f1(top) + "' width='" + f1(bw - 1) + "' height='" + f1(base - top) +
               "' fill='" + html::escape(c.groups[g].color) + "'><title>" + html::escape(c.groups[g].name) + " · " +
               html::escape(c.categories[k]) + ": " + text + "</title></rect>";
      }
      if (text.empty()) continue;
      if (rotated)
        out += "<text transform='translate(" + f1(cx + 3) + " " + f1(top - 4) + ") rotate(-90)' class='value'>" + text + "</text>";
      else
        out += "<text x='" + f1(cx) + "' y='" + f1(top - 4) + "' class='value' text-anchor='middle'>" + text + "</text>";
    }
  }
  std::vector<LegendEntry> entries;
  for (const BarGroup& g : c.groups) entries.push_back({g.name, g.color, LegendEntry::Mark::Box});
  if (entries.size() > 1) out += legend(l, entries);
  return out + close_svg();
}

std::optional<std::pair<double, double>> log10_range(const std::vector<std::vector<double>>& values) {
  double lo = kInf, hi = -kInf;
  for (const auto& row : values)
    for (double v : row)
      if (usable(v, true)) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
  if (!std::isfinite(lo)) return std::nullopt;
  return std::make_pair(lo, hi);
}

std::vector<std::vector<HeatCell>> heat_cells(const Heatmap& h) {
  const auto range = h.range ? h.range : log10_range(h.values);
  std::vector<std::vector<HeatCell>> cells(h.rows.size());
  for (size_t r = 0; r < h.rows.size(); ++r)
    for (size_t c = 0; c < h.cols.size(); ++c) {
      const double v = r < h.values.size() && c < h.values[r].size() ? h.values[r][c] : std::nan("");
      const bool ok = usable(v, true) && range;
      const double span = range && range->second > range->first ? range->second - range->first : 1.0;
      cells[r].push_back({v, ok ? viridis((std::log10(v) - range->first) / span) : std::string("#d0d0d0"), ok});
    }
  return cells;
}

std::string heatmap(const Heatmap& h) {
  Layout l = h.layout;
  std::string out = open_svg(l, h.title) + axis_labels(l, h.xlabel, h.ylabel);
  const auto range = h.range ? h.range : log10_range(h.values);
  if (!range || h.rows.empty() || h.cols.empty()) return out + plot_frame(l) + no_data(l) + close_svg();
  const auto cells = heat_cells(h);
  const double cw = l.plot_w() / static_cast<double>(h.cols.size());
  const double ch = l.plot_h() / static_cast<double>(h.rows.size());
  const double span = range->second > range->first ? range->second - range->first : 1.0;
  for (size_t r = 0; r < h.rows.size(); ++r) {
    const double y = l.top + ch * static_cast<double>(r);
    out += "<text x='" + f1(l.left - 6) + "' y='" + f1(y + ch / 2 + 3.5) + "' class='tick' text-anchor='end'>" +
           html::escape(h.rows[r]) + "</text>";
    for (size_t c = 0; c < h.cols.size(); ++c) {
      const HeatCell& cell = cells[r][c];
      const double x = l.left + cw * static_cast<double>(c);
      const std::string value = cell.valid ? html::num("%.3g", cell.value) : std::isfinite(cell.value) ? "0" : "n/a";
      out += "<rect x='" + f1(x) + "' y='" + f1(y) + "' width='" + f1(std::max(0.5, cw - 1)) + "' height='" +
             f1(std::max(0.5, ch - 1)) + "' fill='" + cell.color + "'><title>" + html::escape(h.rows[r]) + ", " +
             html::escape(h.xlabel) + " " + html::escape(h.cols[c]) + ": " + value + "</title></rect>";
      if (cw >= 40 && ch >= 16) {
        const bool light = cell.valid && (std::log10(cell.value) - range->first) / span > 0.62;
        out += "<text x='" + f1(x + cw / 2) + "' y='" + f1(y + ch / 2 + 3.5) + "' class='cell' text-anchor='middle'" +
               (light || !cell.valid ? " fill='#222'" : "") + ">" + (cell.valid ? html::num("%.2g", cell.value) : value) +
               "</text>";
      }
    }
  }
  // Column labels, thinned so that they stay at least 26 units apart.
  const size_t every = static_cast<size_t>(std::ceil(26.0 / cw));
  for (size_t c = 0; c < h.cols.size(); c += std::max<size_t>(1, every))
    out += "<text x='" + f1(l.left + cw * (static_cast<double>(c) + 0.5)) + "' y='" + f1(l.top + l.plot_h() + 17) +
           "' class='tick' text-anchor='middle'>" + html::escape(h.cols[c]) + "</text>";
  // Legend: a vertical colour bar with ticks at whole powers of ten (or the ends within one decade).
  const double bx = l.left + l.plot_w() + 18, bh = l.plot_h() - 18, by = l.top + 18;
  out += "<text x='" + f1(bx) + "' y='" + f1(l.top + 6) + "' class='legend'>" + html::escape(h.value_name) + " (log)</text>";
  constexpr int kSteps = 40;
  for (int i = 0; i < kSteps; ++i)
    out += "<rect x='" + f1(bx) + "' y='" + f1(by + bh * (1 - (i + 1.0) / kSteps)) + "' width='14' height='" +
           f1(bh / kSteps + 0.6) + "' fill='" + viridis((i + 0.5) / kSteps) + "'/>";
  std::vector<double> ticks;
  for (double e = std::ceil(range->first - 1e-9); e <= range->second + 1e-9; e += 1) ticks.push_back(e);
  if (ticks.size() < 2) ticks = {range->first, range->second};
  for (double e : ticks) {
    const double ty = by + bh * (1 - (e - range->first) / span);
    const double v = std::pow(10.0, e);
    const bool whole = std::abs(e - std::round(e)) < 1e-9;
    out += "<line x1='" + f1(bx + 14) + "' x2='" + f1(bx + 18) + "' y1='" + f1(ty) + "' y2='" + f1(ty) +
           "' class='axisline'/><text x='" + f1(bx + 21) + "' y='" + f1(ty + 3.5) + "' class='tick'>" +
           (whole ? tick_markup(v, true) : html::num("%.2g", v)) + "</text>";
  }
  return out + "<rect x='" + f1(bx) + "' y='" + f1(by) + "' width='14' height='" + f1(bh) + "' class='barframe'/>" + close_svg();
}

}  // namespace cxr::svg
