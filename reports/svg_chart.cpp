#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "reports/report.h"

namespace cxr::svg {
namespace {

constexpr double kW = 660, kH = 300, kL = 64, kR = 170, kT = 34, kB = 46;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e4 || a < 1e-2) return fmt("%.0e", v);
  return fmt("%.3g", v);
}

std::string frame(const std::string& title, const std::string& xlabel, const std::string& ylabel) {
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 " + fmt("%.0f", kW) + " " + fmt("%.0f", kH) +
                  "' class='chart' role='img' aria-label='" + html_escape(title) + "'>";
  s += "<text x='" + fmt("%.0f", kW / 2) + "' y='18' text-anchor='middle' class='title'>" + html_escape(title) + "</text>";
  s += "<text x='" + fmt("%.0f", kL + (kW - kL - kR) / 2) + "' y='" + fmt("%.0f", kH - 6) +
       "' text-anchor='middle' class='axis'>" + html_escape(xlabel) + "</text>";
  s += "<text transform='translate(14 " + fmt("%.0f", kT + (kH - kT - kB) / 2) +
       ") rotate(-90)' text-anchor='middle' class='axis'>" + html_escape(ylabel) + "</text>";
  return s;
}

}  // namespace

std::string palette(size_t i) {
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return colors[i % 8];
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  if (!(lo > 0) || !(hi >= lo)) return t;
  for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= static_cast<int>(std::ceil(std::log10(hi))); ++e)
    t.push_back(std::pow(10.0, e));
  return t;
}

Series downsample(const Series& s, size_t buckets) {
  if (s.x.size() <= 2 * buckets) return s;
  Series out = s;
  out.x.clear();
  out.y.clear();
  const size_t per = (s.x.size() + buckets - 1) / buckets;
  for (size_t b = 0; b < s.x.size(); b += per) {
    const size_t e = std::min(s.x.size(), b + per);
    size_t lo = b, hi = b;
    for (size_t i = b; i < e; ++i) {
      if (s.y[i] < s.y[lo]) lo = i;
      if (s.y[i] > s.y[hi]) hi = i;
    }
    for (size_t i : {std::min(lo, hi), std::max(lo, hi)}) {
      out.x.push_back(s.x[i]);
      out.y.push_back(s.y[i]);
      if (lo == hi) break;
    }
  }
  return out;
}

std::string line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                       const std::vector<Series>& series, bool log_y) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  std::string out = frame(title, xlabel, ylabel);
  if (!std::isfinite(x0)) return out + "<text x='320' y='150' text-anchor='middle'>no data</text></svg>";
  if (x1 == x0) x1 = x0 + 1;
  if (log_y) y0 = std::pow(10, std::floor(std::log10(y0))), y1 = std::pow(10, std::ceil(std::log10(y1)));
  else y0 = std::min(0.0, y0), y1 = y1 + 0.05 * (y1 - y0 + 1e-12);
  if (y1 == y0) y1 = y0 + 1;
  auto X = [&](double x) { return kL + (x - x0) / (x1 - x0) * (kW - kL - kR); };
  auto Y = [&](double y) {
    const double t = log_y ? (std::log10(y) - std::log10(y0)) / (std::log10(y1) - std::log10(y0)) : (y - y0) / (y1 - y0);
    return kH - kB - t * (kH - kT - kB);
  };
  out += "<rect x='" + fmt("%.1f", kL) + "' y='" + fmt("%.1f", kT) + "' width='" + fmt("%.1f", kW - kL - kR) +
         "' height='" + fmt("%.1f", kH - kT - kB) + "' class='plot'/>";
  std::vector<double> yt;
  if (log_y) yt = log_ticks(y0, y1);
  else for (int i = 0; i <= 4; ++i) yt.push_back(y0 + (y1 - y0) * i / 4);
  for (double t : yt)
    out += "<line x1='" + fmt("%.1f", kL) + "' x2='" + fmt("%.1f", kW - kR) + "' y1='" + fmt("%.1f", Y(t)) + "' y2='" +
           fmt("%.1f", Y(t)) + "' class='grid'/><text x='" + fmt("%.1f", kL - 4) + "' y='" + fmt("%.1f", Y(t) + 4) +
           "' text-anchor='end' class='tick'>" + tick_label(t) + "</text>";
  for (int i = 0; i <= 4; ++i) {
    const double t = x0 + (x1 - x0) * i / 4;
    out += "<text x='" + fmt("%.1f", X(t)) + "' y='" + fmt("%.1f", kH - kB + 16) + "' text-anchor='middle' class='tick'>" +
           tick_label(std::round(t * 100) / 100) + "</text>";
  }
  for (size_t k = 0; k < series.size(); ++k) {
    const Series s = downsample(series[k], 800);
    std::string pts;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0)) pts += fmt("%.1f,", X(s.x[i])) + fmt("%.1f ", Y(s.y[i]));
    out += "<polyline fill='none' stroke='" + s.color + "' stroke-width='1.6'" + (s.dashed ? " stroke-dasharray='5 3'" : "") +
           " points='" + pts + "'/>";
    if (s.markers)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0))
          out += "<circle cx='" + fmt("%.1f", X(s.x[i])) + "' cy='" + fmt("%.1f", Y(s.y[i])) + "' r='3' fill='" + s.color + "'/>";
    const double ly = kT + 14 + 16 * static_cast<double>(k);
    out += "<line x1='" + fmt("%.0f", kW - kR + 10) + "' x2='" + fmt("%.0f", kW - kR + 28) + "' y1='" + fmt("%.0f", ly - 4) +
           "' y2='" + fmt("%.0f", ly - 4) + "' stroke='" + s.color + "' stroke-width='2'" +
           (s.dashed ? " stroke-dasharray='5 3'" : "") + "/><text x='" + fmt("%.0f", kW - kR + 32) + "' y='" +
           fmt("%.0f", ly) + "' class='legend'>" + html_escape(s.name) + "</text>";
  }
  return out + "</svg>";
}

std::string bar_chart(const std::string& title, const std::string& ylabel, const std::vector<std::string>& categories,
                      const std::vector<BarGroup>& groups, const char* format, double label_scale) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const BarGroup& g : groups)
    for (double v : g.values)
      if (v > 0 && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  std::string out = frame(title, "stage (input side → head)", ylabel);
  if (!(hi > 0)) return out + "<text x='320' y='150' text-anchor='middle'>no data</text></svg>";
  const double y0 = std::pow(10, std::floor(std::log10(lo))), y1 = std::pow(10, std::ceil(std::log10(hi)) + 0.0);
  const double top = y1 == y0 ? y1 * 10 : y1;
  auto Y = [&](double v) { return kH - kB - (std::log10(v) - std::log10(y0)) / (std::log10(top) - std::log10(y0)) * (kH - kT - kB); };
  for (double t : log_ticks(y0, top))
    out += "<line x1='" + fmt("%.1f", kL) + "' x2='" + fmt("%.1f", kW - kR) + "' y1='" + fmt("%.1f", Y(t)) + "' y2='" +
           fmt("%.1f", Y(t)) + "' class='grid'/><text x='" + fmt("%.1f", kL - 4) + "' y='" + fmt("%.1f", Y(t) + 4) +
           "' text-anchor='end' class='tick'>" + tick_label(t) + "</text>";
  const double slot = (kW - kL - kR) / static_cast<double>(categories.size());
  const double bw = slot * 0.8 / static_cast<double>(groups.size());
  for (size_t c = 0; c < categories.size(); ++c) {
    out += "<text x='" + fmt("%.1f", kL + slot * (static_cast<double>(c) + 0.5)) + "' y='" + fmt("%.1f", kH - kB + 16) +
           "' text-anchor='middle' class='tick'>" + html_escape(categories[c]) + "</text>";
    for (size_t g = 0; g < groups.size(); ++g) {
      const double v = c < groups[g].values.size() ? groups[g].values[c] : 0;
      const double x = kL + slot * static_cast<double>(c) + slot * 0.1 + bw * static_cast<double>(g);
      if (!(v > 0) || !std::isfinite(v)) {
        out += "<text x='" + fmt("%.1f", x + bw / 2) + "' y='" + fmt("%.1f", kH - kB - 4) +
               "' text-anchor='middle' class='tick'>0</text>";
        continue;
      }
      const double y = Y(v);
      out += "<rect x='" + fmt("%.1f", x) + "' y='" + fmt("%.1f", y) + "' width='" + fmt("%.1f", bw - 2) + "' height='" +
             fmt("%.1f", kH - kB - y) + "' fill='" + groups[g].color + "'><title>" + html_escape(groups[g].name) + "</title></rect>";
      out += "<text x='" + fmt("%.1f", x + bw / 2) + "' y='" + fmt("%.1f", y - 3) + "' text-anchor='middle' class='value'>" +
             fmt(format, v * label_scale) + "</text>";
    }
  }
  for (size_t g = 0; g < groups.size() && groups.size() > 1; ++g) {
    const double ly = kT + 14 + 16 * static_cast<double>(g);
    out += "<rect x='" + fmt("%.0f", kW - kR + 10) + "' y='" + fmt("%.0f", ly - 10) + "' width='14' height='10' fill='" +
           groups[g].color + "'/><text x='" + fmt("%.0f", kW - kR + 28) + "' y='" + fmt("%.0f", ly) + "' class='legend'>" +
           html_escape(groups[g].name) + "</text>";
  }
  return out + "</svg>";
}

std::string heatmap(const std::string& title, const std::vector<std::string>& rows, const std::vector<std::string>& cols,
                    const std::vector<std::vector<double>>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& r : values)
    for (double v : r)
      if (v > 0 && std::isfinite(v)) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
  std::string out = frame(title, "epoch", "stage");
  if (!std::isfinite(lo)) return out + "<text x='320' y='150' text-anchor='middle'>no data</text></svg>";
  if (hi == lo) hi = lo + 1;
  const double cw = (kW - kL - kR) / std::max<double>(1, static_cast<double>(cols.size()));
  const double ch = (kH - kT - kB) / std::max<double>(1, static_cast<double>(rows.size()));
  auto color = [&](double l) {  // viridis-like ramp from dark blue to yellow
    const double t = std::clamp((l - lo) / (hi - lo), 0.0, 1.0);
    const int r = static_cast<int>(68 + t * (253 - 68)), g = static_cast<int>(1 + t * (231 - 1)), b = static_cast<int>(84 + t * (37 - 84));
    char buf[16];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
    return std::string(buf);
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    out += "<text x='" + fmt("%.1f", kL - 4) + "' y='" + fmt("%.1f", kT + ch * (static_cast<double>(r) + 0.5) + 4) +
           "' text-anchor='end' class='tick'>" + html_escape(rows[r]) + "</text>";
    for (size_t c = 0; c < cols.size(); ++c) {
      const double v = r < values.size() && c < values[r].size() ? values[r][c] : NAN;
      const bool ok = v > 0 && std::isfinite(v);
      out += "<rect x='" + fmt("%.1f", kL + cw * static_cast<double>(c)) + "' y='" + fmt("%.1f", kT + ch * static_cast<double>(r)) +
             "' width='" + fmt("%.1f", cw - 1) + "' height='" + fmt("%.1f", ch - 1) + "' fill='" +
             (ok ? color(std::log10(v)) : std::string("#ccc")) + "'><title>" + html_escape(rows[r]) + ", epoch " +
             html_escape(cols[c]) + ": " + (ok ? fmt("%.3g", v) : std::string("n/a")) + "</title></rect>";
      if (cw > 34 && ok)
        out += "<text x='" + fmt("%.1f", kL + cw * (static_cast<double>(c) + 0.5)) + "' y='" +
               fmt("%.1f", kT + ch * (static_cast<double>(r) + 0.5) + 4) + "' text-anchor='middle' class='cell'>" +
               fmt("%.2g", v) + "</text>";
    }
  }
  for (size_t c = 0; c < cols.size(); ++c)
    out += "<text x='" + fmt("%.1f", kL + cw * (static_cast<double>(c) + 0.5)) + "' y='" + fmt("%.1f", kH - kB + 16) +
           "' text-anchor='middle' class='tick'>" + html_escape(cols[c]) + "</text>";
  for (int i = 0; i <= 10; ++i) {  // legend: log10 colour scale
    const double l = lo + (hi - lo) * i / 10;
    out += "<rect x='" + fmt("%.0f", kW - kR + 20) + "' y='" + fmt("%.1f", kH - kB - 18 * (i + 1) * 0.9) +
           "' width='16' height='16' fill='" + color(l) + "'/>";
    if (i % 5 == 0)
      out += "<text x='" + fmt("%.0f", kW - kR + 40) + "' y='" + fmt("%.1f", kH - kB - 18 * (i + 1) * 0.9 + 12) +
             "' class='tick'>1e" + fmt("%.1f", l) + "</text>";
  }
  out += "<text x='" + fmt("%.0f", kW - kR + 20) + "' y='" + fmt("%.0f", kT - 4) + "' class='tick'>‖g‖ (log10)</text>";
  return out + "</svg>";
}

}  // namespace cxr::svg
