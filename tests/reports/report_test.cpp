// The report from fixture run directories written here: chart helpers (log ticks, downsampling
// that keeps extremes, heatmap cells), escaping, the gradient-health findings (a planted NaN, a
// frozen stage), a 100,000-step run rendering small and fast, the JSON summary, and the page in
// headless Chromium (skipped when chromium is absent).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "reports/report.h"
#include "reports/svg_chart.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kStages{"conv1", "layer1", "layer2", "layer3", "layer4", "fc"};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A plausible fine-tuning run: gradients and weight change grow towards the head.
fs::path make_run(const std::string& name, int64_t steps, int64_t per_epoch, int64_t nan_step = -1,
                  bool freeze_conv1 = false, const std::string& recipe_text = "model:\n  arch: resnet18\n") {
  const fs::path dir = fs::temp_directory_path() / ("cxr_report_" + std::to_string(getpid())) / name;
  fs::create_directories(dir);
  std::ofstream(dir / "recipe.yaml") << recipe_text;
  std::ofstream m(dir / "metrics.jsonl");
  for (int64_t s = 0; s < steps; ++s) {
    json lr, g;
    double total = 0;
    for (size_t k = 0; k < kStages.size(); ++k) {
      const bool frozen = freeze_conv1 && k == 0;
      lr[kStages[k]] = frozen ? 0.0 : 1e-3 * std::pow(0.7, 5 - static_cast<double>(k));
      const double v = frozen ? 0.0 : (0.2 + 0.3 * static_cast<double>(k)) * std::exp(-static_cast<double>(s) / static_cast<double>(steps));
      g[kStages[k]] = v;
      total += v * v;
    }
    g["total"] = std::sqrt(total);
    if (s == nan_step) g["layer2"] = nullptr;  // non-finite values are written as null
    m << json({{"kind", "step"}, {"epoch", s / per_epoch}, {"step", s}, {"loss", 0.7 * std::exp(-static_cast<double>(s) / 50.0)},
               {"lr", lr}, {"grad_norm", g}, {"images_per_s", 12.0}, {"data_wait_s", 0.0}})
             .dump()
      << "\n";
    if ((s + 1) % per_epoch == 0) {
      json mean, last;
      for (const auto& st : kStages) mean[st] = g[st].is_null() ? 0.5 : g[st].get<double>() * 1.2, last[st] = g[st];
      m << json({{"kind", "epoch"}, {"epoch", s / per_epoch}, {"train_loss", 0.5}, {"val_loss", 0.4}, {"val_accuracy", 0.8},
                 {"val_auroc", 0.9}, {"grad_norm_mean", mean}, {"grad_norm_last", last}, {"val_confusion", {{5, 1}, {2, 6}}}})
               .dump()
        << "\n";
    }
  }
  json wc;
  for (size_t k = 0; k < kStages.size(); ++k) wc[kStages[k]] = freeze_conv1 && k == 0 ? 0.0 : 0.0034 * std::pow(2.4, static_cast<double>(k));
  std::ofstream(dir / "weight_change.json") << wc.dump();
  std::ofstream(dir / "val_predictions.json") << json({{"classes", {"NORMAL", "PNEUMONIA"}},
                                                        {"scores", {{0.9, 0.1}, {0.2, 0.8}, {0.6, 0.4}, {0.3, 0.7}}},
                                                        {"targets", {{1, 0}, {0, 1}, {0, 1}, {1, 0}}}})
                                                     .dump();
  return dir;
}

TEST(SvgChart, LogTicksSpanPowersOfTen) {
  EXPECT_EQ(svg::log_ticks(0.003, 0.4), (std::vector<double>{1e-3, 1e-2, 1e-1, 1.0}));
  EXPECT_TRUE(svg::log_ticks(0, 1).empty());
}

TEST(SvgChart, DownsamplingKeepsExtremes) {
  svg::Series s{"x", {}, {}, "#000"};
  for (int i = 0; i < 100000; ++i) s.x.push_back(i), s.y.push_back(std::sin(i * 0.001));
  s.y[54321] = 99.0;
  s.y[777] = -42.0;
  const svg::Series d = svg::downsample(s, 500);
  EXPECT_LE(d.x.size(), 1000u);
  EXPECT_NE(std::find(d.y.begin(), d.y.end(), 99.0), d.y.end());
  EXPECT_NE(std::find(d.y.begin(), d.y.end(), -42.0), d.y.end());
}

TEST(SvgChart, HeatmapCellsCarryTheirValues) {
  const std::string h = svg::heatmap("t", {"conv1", "fc"}, {"0", "1"}, {{0.01, 0.02}, {3.0, NAN}});
  EXPECT_NE(h.find("conv1, epoch 1: 0.02"), std::string::npos);
  EXPECT_NE(h.find("fc, epoch 0: 3"), std::string::npos);
  EXPECT_NE(h.find("fc, epoch 1: n/a"), std::string::npos);
}

TEST(Report, EscapesEverything) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  const fs::path dir = make_run("canary<script>", 40, 10, -1, false,
                                "data:\n  train: /data/<script>alert(1)</script>/Doe^John\n");
  const fs::path out = dir.parent_path() / "canary.html";
  write_report({dir.string()}, out.string());
  const std::string page = slurp(out);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(Report, WeightChangeInPercentAndFrozenStageAtZero) {
  const fs::path dir = make_run("frozen", 40, 10, -1, true);
  const fs::path out = dir.parent_path() / "frozen.html";
  write_report({dir.string()}, out.string());
  const std::string page = slurp(out);
  EXPECT_NE(page.find(">0.82%<"), std::string::npos);   // layer1: 0.0034 · 2.4
  EXPECT_NE(page.find(">27.07%<"), std::string::npos);  // fc: 0.0034 · 2.4^5
  EXPECT_NE(page.find("stage conv1 is frozen"), std::string::npos);
  const json j = json::parse(report_json({dir.string()}));
  EXPECT_EQ(j["runs"][0]["weight_change"]["conv1"].get<double>(), 0.0);
}

TEST(Report, PlantedNanIsReportedWithItsStep) {
  const fs::path dir = make_run("nan", 60, 20, 37);
  const json j = json::parse(report_json({dir.string()}));
  bool found = false;
  for (const auto& h : j["runs"][0]["health"]) found |= h.get<std::string>() == "non-finite gradient norm in layer2 at step 37";
  EXPECT_TRUE(found) << j["runs"][0]["health"].dump();
}

TEST(Report, HundredThousandStepsRenderSmallAndFast) {
  const fs::path dir = make_run("long", 100000, 5000);
  const fs::path out = dir.parent_path() / "long.html";
  const auto t0 = std::chrono::steady_clock::now();
  write_report({dir.string()}, out.string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto bytes = fs::file_size(out);
  std::printf("100,000 steps: %.2f s, %.2f MB\n", seconds, static_cast<double>(bytes) / 1e6);
  EXPECT_LT(bytes, 5u << 20);
  EXPECT_LT(seconds, 6.0);  // ~1 s here alone; slack for a loaded CI machine
}

TEST(Report, OpensInHeadlessChromiumWithoutConsoleErrors) {
  const char* chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium)) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  const fs::path a = make_run("fresh", 300, 50), b = make_run("pretrained", 300, 50);
  const fs::path out = a.parent_path() / "side_by_side.html", png = a.parent_path() / "shot.png";
  write_report({a.string(), b.string()}, out.string());
  const std::string log = (a.parent_path() / "chromium.log").string();
  const std::string cmd = std::string(chromium) +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
                          " --disable-component-update --disable-sync --enable-logging=stderr --v=0 --user-data-dir=" +
                          (a.parent_path() / "profile").string() + " --window-size=1400,3000 --screenshot=" + png.string() +
                          " file://" + out.string() + " > " + log + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(log);
  EXPECT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 50000u);  // a rendered page, not a blank one
  const std::string text = slurp(log);
  EXPECT_EQ(text.find("CONSOLE"), std::string::npos) << text;
  EXPECT_EQ(text.find("Uncaught"), std::string::npos) << text;
}

}  // namespace
}  // namespace cxr
