// The chart module's data: scales and ticks (linear and log), tick labels, downsampling that
// keeps extremes and gaps, heatmap cell colours, bar labels, and escaping of every text.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "reports/html.h"
#include "reports/svg_chart.h"

namespace cxr::svg {
namespace {

TEST(Scale, LogTicksArePowersOfTenSpanningTheData) {
  EXPECT_EQ(log_ticks(0.003, 0.4), (std::vector<double>{1e-3, 1e-2, 1e-1, 1.0}));
  EXPECT_EQ(log_ticks(1e-4, 1e-2), (std::vector<double>{1e-4, 1e-3, 1e-2}));
  EXPECT_TRUE(log_ticks(0, 1).empty());
  EXPECT_TRUE(log_ticks(1, 0.5).empty());
  const Scale s = nice_log(0.0034, 38.67);
  EXPECT_DOUBLE_EQ(s.lo, 1e-3);
  EXPECT_DOUBLE_EQ(s.hi, 100);
  EXPECT_NEAR(s.frac(0.1), 0.4, 1e-12);
}

TEST(Scale, LinearTicksUseOneTwoFiveSteps) {
  EXPECT_EQ(linear_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  const auto t = linear_ticks(0, 100000, 6);
  EXPECT_EQ(t.front(), 0);
  EXPECT_EQ(t.back(), 100000);
  EXPECT_EQ(t[1], 20000);
  const Scale s = nice_linear(0.21, 0.69, true);
  EXPECT_EQ(s.lo, 0);
  EXPECT_NEAR(s.hi, 0.8, 1e-12);  // step 0.2
}

TEST(Scale, TickLabelsArePlainDecimalsOrPowersOfTen) {
  EXPECT_EQ(tick_markup(0.01, true), "0.01");
  EXPECT_EQ(tick_markup(100, true), "100");
  EXPECT_EQ(tick_markup(1e-5, true), "10<tspan dy='-5' font-size='75%'>−5</tspan>");
  EXPECT_EQ(tick_markup(1e6, true), "10<tspan dy='-5' font-size='75%'>6</tspan>");
  EXPECT_EQ(tick_markup(0.4, false), "0.4");
}

TEST(Downsample, KeepsMinimumMaximumAndGapsOfEveryBucket) {
  std::vector<double> x, y;
  for (int i = 0; i < 100000; ++i) x.push_back(i), y.push_back(std::sin(i * 0.001));
  y[54321] = 99.0;
  y[777] = -42.0;
  y[80000] = std::nan("");
  std::vector<double> dx, dy;
  downsample(x, y, 500, dx, dy);
  EXPECT_LE(dx.size(), 1500u);
  EXPECT_GE(dx.size(), 500u);
  EXPECT_NE(std::find(dy.begin(), dy.end(), 99.0), dy.end());
  EXPECT_NE(std::find(dy.begin(), dy.end(), -42.0), dy.end());
  EXPECT_NE(std::find(dx.begin(), dx.end(), 54321.0), dx.end());
  EXPECT_TRUE(std::any_of(dy.begin(), dy.end(), [](double v) { return std::isnan(v); }));
  EXPECT_TRUE(std::is_sorted(dx.begin(), dx.end()));
  downsample({1, 2, 3}, {4, 5, 6}, 500, dx, dy);  // short series pass through
  EXPECT_EQ(dy, (std::vector<double>{4, 5, 6}));
}

TEST(Heatmap, CellsUseALog10ColourScale) {
  Heatmap h;
  h.rows = {"conv1", "fc"};
  h.cols = {"0", "1"};
  h.xlabel = "epoch";
  h.values = {{0.01, 0.1}, {1.0, std::nan("")}};
  const auto range = log10_range(h.values);
  ASSERT_TRUE(range);
  EXPECT_DOUBLE_EQ(range->first, -2);
  EXPECT_DOUBLE_EQ(range->second, 0);
  const auto cells = heat_cells(h);
  EXPECT_EQ(cells[0][0].color, viridis(0));    // smallest: dark end
  EXPECT_EQ(cells[0][1].color, viridis(0.5));  // 0.1 is halfway between 0.01 and 1 in log10
  EXPECT_EQ(cells[1][0].color, viridis(1));
  EXPECT_FALSE(cells[1][1].valid);
  EXPECT_EQ(viridis(0), "#440154");
  EXPECT_EQ(viridis(1), "#fde725");
  const std::string svg = heatmap(h);
  EXPECT_NE(svg.find("conv1, epoch 1: 0.1<"), std::string::npos);
  EXPECT_NE(svg.find("fc, epoch 1: n/a<"), std::string::npos);
  EXPECT_NE(svg.find(">0.01<"), std::string::npos);  // legend tick at 10^-2
}

TEST(BarChart, LabelsEveryBarAndShowsZeroForAStageThatDidNotMove) {
  BarChart c;
  c.title = "Relative weight change";
  c.categories = {"conv1", "layer1", "fc"};
  c.groups = {{"run", {0.0, 0.91, 38.67}, "#123456"}};
  c.label = [](double v) { return html::num("%.2f", v) + " %"; };
  const std::string svg = bar_chart(c);
  EXPECT_NE(svg.find(">0.91 %<"), std::string::npos);
  EXPECT_NE(svg.find(">38.67 %<"), std::string::npos);
  EXPECT_NE(svg.find(">0<"), std::string::npos);
  size_t bars = 0;
  for (size_t at = svg.find("fill='#123456'"); at != std::string::npos; at = svg.find("fill='#123456'", at + 1)) ++bars;
  EXPECT_EQ(bars, 2u);  // no bar for the zero
}

TEST(LineChart, EscapesTextsAndBreaksLinesAtGaps) {
  LineChart c;
  c.title = "<b>\"loss\"</b>";
  c.xlabel = "step & epoch";
  c.ylabel = "it's";
  c.series = {{"a<script>", {0, 1, 2, 3}, {1, std::nan(""), 2, 3}}};
  const std::string svg = line_chart(c);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;&quot;loss&quot;&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(svg.find("step &amp; epoch"), std::string::npos);
  EXPECT_NE(svg.find("it&#39;s"), std::string::npos);
  // Two sub-paths: the NaN at x = 1 is a gap.
  const auto d = svg.substr(svg.find(" d='"));
  EXPECT_EQ(std::count(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.find("' ", 3)), 'M'), 2);
}

TEST(Html, EscapesTextAndAttributeCharacters) {
  EXPECT_EQ(html::escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html::percent(0.3867), "38.67 %");
  EXPECT_EQ(html::percent(0.0034), "0.34 %");
  EXPECT_EQ(html::percent(0), "0.00 %");
  EXPECT_EQ(html::num(std::nan("")), "–");
}

}  // namespace
}  // namespace cxr::svg
