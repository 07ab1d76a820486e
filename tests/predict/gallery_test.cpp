// The report's gallery: selection by confidence on hand-made scores (binary, multi-class,
// multi-label with a masked label), then end to end: a short training run writes RUN/gallery/
// whose overlays fit in 256 px and which the report inlines as data URIs, and `report
// --no-images` leaves no `data:image` in the page and says so; a gallery.json naming a file
// outside gallery/ is refused.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "predict/gallery_selection.h"
#include "predict_fixtures.h"
#include "reports/report.h"

namespace cxr::test {
namespace {

using nlohmann::json;

ScoredImage binary(double p, int truth) { return {{1 - p, p}, {truth ? 0.0 : 1.0, truth ? 1.0 : 0.0}}; }

TEST(GallerySelection, MostConfidentFirstPerKind) {
  const std::vector<ScoredImage> s{binary(0.9, 0), binary(0.6, 0), binary(0.2, 1), binary(0.45, 1),
                                   binary(0.95, 1), binary(0.7, 1), binary(0.99, 0), binary(0.05, 0)};
  const auto picks = select_gallery(s, ScoringRule{}, 2);
  ASSERT_EQ(picks.size(), 6u);
  const std::vector<std::pair<std::string, int64_t>> want{{"false_positive", 6}, {"false_positive", 0},
                                                          {"false_negative", 2}, {"false_negative", 3},
                                                          {"true_positive", 4}, {"true_positive", 5}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(picks[i].kind, want[i].first) << i;
    EXPECT_EQ(picks[i].image, want[i].second) << i;
    EXPECT_EQ(picks[i].cls, 1) << "binary runs are judged on the positive class";
  }
  EXPECT_DOUBLE_EQ(picks[2].probability, 0.2);
  EXPECT_EQ(select_gallery(s, ScoringRule{}, 8).size(), 3u + 2u + 2u) << "all there are when fewer than 8";
}

TEST(GallerySelection, MultiClassAndMultiLabel) {
  // Three classes: image 0 is class 2 taken for class 0: a false positive of 0, a false negative of 2.
  const std::vector<ScoredImage> mc{{{0.7, 0.1, 0.2}, {0, 0, 1}}, {{0.1, 0.8, 0.1}, {0, 1, 0}}};
  const auto a = select_gallery(mc, ScoringRule{}, 8);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].kind, "false_positive");
  EXPECT_EQ(a[0].cls, 0);
  EXPECT_EQ(a[1].kind, "false_negative");
  EXPECT_EQ(a[1].cls, 2);
  EXPECT_EQ(a[2].kind, "true_positive");
  EXPECT_EQ(a[2].cls, 1);
  // Multi-label, per-label thresholds; a masked target (−1) is never judged.
  const ScoringRule ml{true, std::nullopt, {0.5, 0.9}};
  const std::vector<ScoredImage> m{{{0.6, 0.95}, {0, -1}}, {{0.4, 0.8}, {1, 1}}};
  const auto b = select_gallery(m, ml, 8);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].kind, "false_positive");  // image 0 label 0
  EXPECT_EQ(b[0].image, 0);
  EXPECT_EQ(b[1].kind, "false_negative");  // image 1 label 0 (0.4): more confident than label 1 (0.8 < 0.9)
  EXPECT_EQ(b[1].cls, 0);
  EXPECT_EQ(b[2].kind, "false_negative");
  EXPECT_EQ(b[2].cls, 1);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Gallery, TrainingWritesItAndTheReportInlinesIt) {
  const fs::path dir = fresh_dir("gallery");
  ASSERT_EQ(run_cxrtune("demo-data " + (dir / "data").string() + " --count 60 --size 72 --seed 9").code, 0);
  std::ofstream(dir / "r.yaml") << "model: {arch: resnet18, num_classes: 2}\n"
                                   "data: {train: " << (dir / "data/train").string() << ", val: " << (dir / "data/val").string()
                                << ", image_size: 64}\n"
                                   "train: {epochs: 1, max_steps: 3, batch_size: 4, backend: cpu, threads: 2}\n";
  const fs::path run = dir / "run";
  const CliResult t = run_cxrtune("train " + (dir / "r.yaml").string() + " --out " + run.string());
  ASSERT_EQ(t.code, 0) << t.output;
  const json g = json::parse(slurp(run / "gallery" / "gallery.json"));
  EXPECT_TRUE(g["images"].get<bool>());
  ASSERT_FALSE(g["items"].empty());
  size_t images = 0;
  double last = 2;
  std::string kind;
  for (const auto& item : g["items"]) {
    if (item["kind"] != kind) kind = item["kind"], last = 2;
    const double confidence = kind == "false_negative" ? 1 - item["probability"].get<double>() : item["probability"].get<double>();
    EXPECT_LE(confidence, last) << "most confident first within " << kind;
    last = confidence;
    EXPECT_EQ(item["class"], "PNEUMONIA");
    EXPECT_TRUE(fs::exists(dir / "data/val" / item["path"].get<std::string>())) << item["path"];
    const std::string png = slurp(run / "gallery" / item["image"].get<std::string>());
    ASSERT_GT(png.size(), 24u);
    const auto be32 = [&](size_t at) {
      return (static_cast<unsigned char>(png[at]) << 24) | (static_cast<unsigned char>(png[at + 1]) << 16) |
             (static_cast<unsigned char>(png[at + 2]) << 8) | static_cast<unsigned char>(png[at + 3]);
    };
    EXPECT_LE(be32(16), 256);
    EXPECT_EQ(be32(20), 64) << "the model's input size";
    ++images;
  }
  EXPECT_LE(images, 24u);
  const std::string page = slurp(run / "report.html");
  EXPECT_EQ(count(page, "src='data:image/png;base64,"), images);
  EXPECT_NE(page.find("Where the model looks"), std::string::npos);
  EXPECT_NE(page.find("Images included."), std::string::npos);

  const CliResult r = run_cxrtune("report " + run.string() + " --no-images -o " + (dir / "plain.html").string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string plain = slurp(dir / "plain.html");
  EXPECT_EQ(plain.find("data:image"), std::string::npos);
  EXPECT_NE(plain.find("Images not included"), std::string::npos);
  EXPECT_NE(plain.find(g["items"][0]["path"].get<std::string>()), std::string::npos) << "the list stays";

  // A gallery.json that names a file outside gallery/ is refused.
  json bad = g;
  bad["items"][0]["image"] = "../recipe.yaml";
  std::ofstream(run / "gallery" / "gallery.json") << bad.dump();
  EXPECT_THROW(render_report({run.string()}), UsageError);
  bad["images"] = false;  // what report.images: false writes: no pixel data, whatever the items say
  std::ofstream(run / "gallery" / "gallery.json") << bad.dump();
  const std::string off = render_report({run.string()});
  EXPECT_EQ(off.find("data:image"), std::string::npos);
  EXPECT_NE(off.find("report.images: false"), std::string::npos);
}

TEST(Gallery, RecipeReportImagesFalseWritesNoPixels) {
  const fs::path dir = fresh_dir("gallery_off");
  ASSERT_EQ(run_cxrtune("demo-data " + (dir / "data").string() + " --count 40 --size 72 --seed 4").code, 0);
  std::ofstream(dir / "r.yaml") << "model: {arch: resnet18, num_classes: 2}\n"
                                   "data: {train: " << (dir / "data/train").string() << ", val: " << (dir / "data/val").string()
                                << ", image_size: 64}\n"
                                   "train: {epochs: 1, max_steps: 2, batch_size: 4, backend: cpu, threads: 2}\n"
                                   "report: {images: false}\n";
  const fs::path run = dir / "run";
  const CliResult t = run_cxrtune("train " + (dir / "r.yaml").string() + " --out " + run.string());
  ASSERT_EQ(t.code, 0) << t.output;
  const json g = json::parse(slurp(run / "gallery" / "gallery.json"));
  EXPECT_FALSE(g["images"].get<bool>());
  ASSERT_FALSE(g["items"].empty());
  for (const auto& item : g["items"]) EXPECT_TRUE(item["image"].is_null());
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(run / "gallery")) files += e.path().extension() == ".png";
  EXPECT_EQ(files, 0u);
  const std::string page = slurp(run / "report.html");
  EXPECT_EQ(page.find("data:image"), std::string::npos);
  EXPECT_NE(page.find("Images not included"), std::string::npos);
}

}  // namespace
}  // namespace cxr::test
