// Small HTML building blocks for the report: escaping, number formatting and tables.
// Contract: every function that takes text escapes it (HTML text and attribute contexts alike:
// & < > " ' are replaced), so callers pass raw strings and never pre-escaped ones. Functions
// that take `html` (already built markup) say so in the parameter name.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cxr::html {

// Escapes & < > " ' for use in HTML text and in quoted attributes.
std::string escape(std::string_view text);

// printf-style number; "–" for NaN/Inf so a missing value never prints as "nan".
std::string num(const char* format, double v);
// Compact number for tables: 4 significant digits, exponent outside [1e-3, 1e5).
std::string num(double v);
// A fraction as percent with two decimals: 0.3867 → "38.67 %".
std::string percent(double fraction);

// A table: the header row, then rows of cells. Cells are text (escaped); the first column of
// each row is a row header (<th>) when `row_headers` is set.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  bool row_headers = true;
  std::string caption = {};
  std::string css_class = {};  // e.g. "text": cells left-aligned
};
std::string table(const Table& t);

// A collapsible block; `body_html` is markup.
std::string details(const std::string& summary, const std::string& body_html);

// One figure: the chart's markup and its numbers in a collapsible table.
std::string figure(const std::string& svg_html, const std::string& numbers_summary, const Table& numbers,
                   const std::string& note = "");

}  // namespace cxr::html
