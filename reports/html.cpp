#include "reports/html.h"

#include <cmath>
#include <cstdio>

namespace cxr::html {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(const char* format, double v) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "–";
  const double a = std::abs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) return num("%.3e", v);
  return num("%.4g", v);
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "–";
  const double p = 100 * fraction;
  // Tiny but non-zero changes keep significant digits instead of collapsing to "0.00 %".
  if (p != 0 && std::abs(p) < 0.01) return num("%.2g", p) + " %";
  return num("%.2f", p) + " %";
}

std::string table(const Table& t) {
  std::string out = t.css_class.empty() ? "<table>" : "<table class='" + escape(t.css_class) + "'>";
  if (!t.caption.empty()) out += "<caption>" + escape(t.caption) + "</caption>";
  if (!t.header.empty()) {
    out += "<thead><tr>";
    for (const auto& h : t.header) out += "<th>" + escape(h) + "</th>";
    out += "</tr></thead>";
  }
  out += "<tbody>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      const char* tag = (i == 0 && t.row_headers) ? "th" : "td";
      out += std::string("<") + tag + ">" + escape(row[i]) + "</" + tag + ">";
    }
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

std::string details(const std::string& summary, const std::string& body_html) {
  return "<details><summary>" + escape(summary) + "</summary>" + body_html + "</details>";
}

std::string figure(const std::string& svg_html, const std::string& numbers_summary, const Table& numbers,
                   const std::string& note) {
  std::string out = "<figure>" + svg_html;
  if (!note.empty()) out += "<figcaption>" + escape(note) + "</figcaption>";
  return out + details(numbers_summary, table(numbers)) + "</figure>";
}

}  // namespace cxr::html
