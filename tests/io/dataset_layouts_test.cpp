// io/dataset_layouts.h on fixtures in each official layout: the resolved label matrix, mask,
// split and view filter exactly, for every data.uncertain policy; label subsets; missing
// columns and missing images (named by CSV line; skipped and counted with on_bad_file: skip).
#include "io/dataset_layouts.h"

#include <gtest/gtest.h>

#include <map>

#include "core/errors.h"
#include "io/dataset.h"
#include "tests/io/layout_fixtures.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

constexpr float I = kIgnoredTarget;

struct Seen {
  std::string split, patient;
  std::vector<float> targets;
};

std::map<std::string, Seen> by_path(const DataSplits& d) {
  std::map<std::string, Seen> out;
  auto add = [&](const Dataset& x, const char* split) {
    for (const Sample& s : x.samples) {
      EXPECT_TRUE(fs::exists(s.path)) << s.path;
      EXPECT_FALSE(out.count(s.relative)) << s.relative << " in two splits";
      out[s.relative] = {split, s.patient_key, s.targets};
    }
  };
  add(d.train, "train");
  add(d.val, "val");
  if (d.test) add(*d.test, "test");
  return out;
}

std::string message(const LayoutRequest& r) {
  try {
    resolve_dataset(r);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<float> nih(std::initializer_list<const char*> on) {
  static const std::vector<std::string> names{"Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
                                              "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia"};
  std::vector<float> v(names.size(), 0.0f);
  for (const char* o : on) v[static_cast<size_t>(std::find(names.begin(), names.end(), o) - names.begin())] = 1.0f;
  return v;
}

TEST(DatasetLayouts, DetectsEachLayoutFromItsHeader) {
  TempDir t("detect");
  EXPECT_EQ(detect_layout(test::write_nih(t.path / "nih")), "nih");
  EXPECT_EQ(detect_layout(test::write_chexpert(t.path / "chexpert")), "chexpert");
  EXPECT_EQ(detect_layout(test::write_mimic(t.path / "mimic")), "mimic-cxr-jpg");
  EXPECT_EQ(detect_layout(test::write_rsna(t.path / "rsna")), "rsna-pneumonia");
  EXPECT_EQ(detect_layout((t.path / "nih").string()), "folder");
}

TEST(DatasetLayouts, NihLabelsOfficialTestListAndPatientLevelValidation) {
  TempDir t("nih");
  LayoutRequest r;
  r.train = test::write_nih(t.path);
  r.val_split = 0.34;  // one of the three train/val patients
  const ResolvedData got = resolve_dataset(r);
  EXPECT_EQ(got.splits.train.classes.size(), 14u);
  EXPECT_TRUE(got.splits.train.multi_label);
  const auto seen = by_path(got.splits);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen.at("images_001/images/00000001_000.png").targets, nih({"Cardiomegaly"}));
  EXPECT_EQ(seen.at("images_001/images/00000001_001.png").targets, nih({"Cardiomegaly", "Emphysema"}));
  EXPECT_EQ(seen.at("images_001/images/00000002_000.png").targets, nih({}));
  EXPECT_EQ(seen.at("images_002/images/00000003_000.png").targets, nih({"Hernia"}));
  const Seen& test = seen.at("images_002/images/00000004_000.png");
  EXPECT_EQ(test.split, "test");
  EXPECT_EQ(test.targets, nih({"Effusion", "Mass"}));
  // Patient 1's two images share one split and one key; the key is no raw id.
  EXPECT_EQ(seen.at("images_001/images/00000001_000.png").split, seen.at("images_001/images/00000001_001.png").split);
  EXPECT_EQ(seen.at("images_001/images/00000001_000.png").patient, seen.at("images_001/images/00000001_001.png").patient);
  EXPECT_EQ(seen.at("images_001/images/00000001_000.png").patient.size(), 16u);
  EXPECT_NE(seen.at("images_001/images/00000001_000.png").patient, seen.at("images_001/images/00000002_000.png").patient);
  EXPECT_EQ(got.summary.val, 1 + (seen.at("images_001/images/00000001_000.png").split == "val" ? 1 : 0));
  EXPECT_EQ(got.summary.train + got.summary.val, 4);
  EXPECT_EQ(got.summary.test, 1);
  EXPECT_EQ(got.summary.counts[1].positive, 2);   // Cardiomegaly
  EXPECT_EQ(got.summary.counts[1].negative, 3);
  EXPECT_EQ(got.summary.counts[13].positive, 1);  // Hernia
}

TEST(DatasetLayouts, NihViewsAndLabelSubset) {
  TempDir t("nih_views");
  LayoutRequest r;
  r.train = test::write_nih(t.path, /*official_lists=*/false);
  r.views = {"pa"};
  r.labels = {"Hernia", "Cardiomegaly"};
  r.val_split = 0.5;
  const ResolvedData got = resolve_dataset(r);
  EXPECT_EQ(got.splits.train.classes, (std::vector<std::string>{"Hernia", "Cardiomegaly"}));
  const auto seen = by_path(got.splits);
  ASSERT_EQ(seen.size(), 3u);  // the two AP images are left out
  EXPECT_EQ(got.summary.filtered_by_view, 2);
  EXPECT_EQ(seen.at("images_001/images/00000001_001.png").targets, (std::vector<float>{0, 1}));
  EXPECT_EQ(seen.at("images_002/images/00000003_000.png").targets, (std::vector<float>{1, 0}));
  EXPECT_FALSE(got.splits.test);
  r.labels = {"Cardiomegally"};
  const std::string m = message(r);
  EXPECT_NE(m.find("data.labels: 'Cardiomegally'"), std::string::npos) << m;
  EXPECT_NE(m.find("Cardiomegaly, Effusion"), std::string::npos) << m;  // the available ones
}

TEST(DatasetLayouts, NihMissingImageNamesTheCsvLineOrIsSkippedOnce) {
  TempDir t("nih_missing");
  LayoutRequest r;
  r.train = test::write_nih(t.path, true, /*one_missing=*/true);
  r.val_split = 0.34;
  const std::string m = message(r);
  EXPECT_NE(m.find("Data_Entry_2017.csv:7: image 00000005_000.png not found"), std::string::npos) << m;
  r.skip_bad_files = true;
  const ResolvedData got = resolve_dataset(r);
  ASSERT_EQ(got.summary.skipped.size(), 1u);
  EXPECT_NE(got.summary.skipped[0].find("Data_Entry_2017.csv:7:"), std::string::npos);
  EXPECT_NE(got.summary.text().find("files skipped: 1"), std::string::npos);
  EXPECT_EQ(got.summary.train + got.summary.val + got.summary.test, 5);
}

TEST(DatasetLayouts, MissingColumnNamesFileColumnAndLayout) {
  TempDir t("nih_column");
  test::write_text(t.path / "Data_Entry_2017.csv", "Image Index,Patient ID,View Position\nx.png,1,PA\n");
  LayoutRequest r;
  r.format = "nih";
  r.train = (t.path / "Data_Entry_2017.csv").string();
  const std::string m = message(r);
  EXPECT_NE(m.find(r.train + ": the nih layout needs a column 'Finding Labels'"), std::string::npos) << m;
  test::write_text(t.path / "labels.csv", "patientId,x,y,width,height\na,,,,\n");
  r.format = "rsna-pneumonia";
  r.train = (t.path / "labels.csv").string();
  EXPECT_NE(message(r).find("the rsna-pneumonia layout needs a column 'Target'"), std::string::npos) << message(r);
}

TEST(DatasetLayouts, ChexpertUncertaintyPoliciesValidCsvAndViews) {
  TempDir t("chexpert");
  LayoutRequest r;
  r.train = test::write_chexpert(t.path);
  r.labels = {"Cardiomegaly", "Edema", "Pneumonia", "Atelectasis", "Pleural Effusion", "Support Devices"};
  const std::string f1 = "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg";
  const std::string l1 = "CheXpert-v1.0-small/train/patient00001/study1/view2_lateral.jpg";
  const std::string f2 = "CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg";
  const std::string v3 = "CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg";
  for (const auto& [policy, u] : std::vector<std::pair<std::string, float>>{{"ignore", I}, {"ones", 1.0f}, {"zeros", 0.0f}}) {
    r.uncertain = policy;
    const ResolvedData got = resolve_dataset(r);
    const auto seen = by_path(got.splits);
    ASSERT_EQ(seen.size(), 4u) << policy;
    EXPECT_EQ(seen.at(f1).targets, (std::vector<float>{1, u, 0, 0, 0, 0})) << policy;
    EXPECT_EQ(seen.at(l1).targets, (std::vector<float>{0, u, 0, 1, 0, 0})) << policy;
    EXPECT_EQ(seen.at(f2).targets, (std::vector<float>{0, 0, 0, 0, u, 1})) << policy;
    EXPECT_EQ(seen.at(v3).targets, (std::vector<float>{1, 0, 0, 0, 0, 0})) << policy;
    EXPECT_EQ(seen.at(f1).split, "train");
    EXPECT_EQ(seen.at(v3).split, "val");
    EXPECT_EQ(got.summary.counts[1].ignored, policy == "ignore" ? 2 : 0) << policy;
    EXPECT_EQ(got.summary.counts[1].positive, policy == "ones" ? 2 : 0) << policy;
  }
  r.views = {"PA", "AP"};
  const auto seen = by_path(resolve_dataset(r).splits);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen.count(l1));
  r.views = {"LATERAL"};
  EXPECT_NE(message(r).find("validation images; both must be non-empty"), std::string::npos) << message(r);
}

TEST(DatasetLayouts, MimicJoinsLabelsMetadataAndSplitForEveryPolicy) {
  TempDir t("mimic");
  LayoutRequest r;
  r.train = test::write_mimic(t.path);
  r.labels = {"Atelectasis", "Cardiomegaly", "Edema", "Pneumonia"};
  const std::string d1 = "files/p10/p10000032/s50414267/d1.jpg", d2 = "files/p10/p10000032/s50414267/d2.jpg";
  const std::string d3 = "files/p10/p10000033/s50000001/d3.jpg", d4 = "files/p10/p10000034/s50000002/d4.jpg";
  for (const auto& [policy, u] : std::vector<std::pair<std::string, float>>{{"ignore", I}, {"ones", 1.0f}, {"zeros", 0.0f}}) {
    r.uncertain = policy;
    const ResolvedData got = resolve_dataset(r);
    const auto seen = by_path(got.splits);
    ASSERT_EQ(seen.size(), 4u) << policy;
    EXPECT_EQ(seen.at(d1).targets, (std::vector<float>{1, 0, u, 0})) << policy;
    EXPECT_EQ(seen.at(d2).targets, (std::vector<float>{1, 0, u, 0})) << policy;
    EXPECT_EQ(seen.at(d3).targets, (std::vector<float>{0, 1, 0, 0})) << policy;
    EXPECT_EQ(seen.at(d4).targets, (std::vector<float>{0, 0, 0, u})) << policy;
    EXPECT_EQ(seen.at(d1).split, "train");
    EXPECT_EQ(seen.at(d3).split, "val");
    EXPECT_EQ(seen.at(d4).split, "test");
    EXPECT_EQ(seen.at(d1).patient, seen.at(d2).patient);
    ASSERT_EQ(got.summary.skipped.size(), 1u);  // d5: its study has no labels
    EXPECT_NE(got.summary.skipped[0].find("metadata.csv.gz:6: study 59999999"), std::string::npos) << got.summary.skipped[0];
  }
  r.views = {"PA", "AP"};
  const auto seen = by_path(resolve_dataset(r).splits);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen.count(d2));
  // An image listed but absent names the metadata line.
  fs::remove(t.path / d3);
  r.views.clear();
  EXPECT_NE(message(r).find("metadata.csv.gz:4: image " + d3 + " not found"), std::string::npos) << message(r);
}

TEST(DatasetLayouts, RsnaOneLabelPerImageAndDisagreeingTargetsRefused) {
  TempDir t("rsna");
  LayoutRequest r;
  r.train = test::write_rsna(t.path);
  r.val_split = 0.25;
  const ResolvedData got = resolve_dataset(r);
  EXPECT_EQ(got.splits.train.classes, std::vector<std::string>{"Pneumonia"});
  const auto seen = by_path(got.splits);
  ASSERT_EQ(seen.size(), 4u);  // the boxed image's two rows are one sample
  EXPECT_EQ(seen.at("00436515-870c-4b36-a041-de91049b9ab4.dcm").targets, std::vector<float>{1});
  EXPECT_EQ(seen.at("0004cfab-14fd-4e49-80ba-63a80b6bddd6.dcm").targets, std::vector<float>{0});
  EXPECT_EQ(got.summary.val, 1);
  EXPECT_EQ(got.summary.counts[0].positive, 1);
  EXPECT_EQ(got.summary.counts[0].negative, 3);
  r.views = {"PA"};
  EXPECT_NE(message(r).find("does not record the view"), std::string::npos);
  r.views.clear();
  test::write_text(t.path / "stage_2_train_labels.csv",
                   "patientId,x,y,width,height,Target\nb,1,2,3,4,1\nc,,,,,0\nb,,,,,0\n");
  const std::string m = message(r);
  EXPECT_NE(m.find("stage_2_train_labels.csv:4: Target 0 for b differs from"), std::string::npos) << m;
  EXPECT_NE(m.find("stage_2_train_labels.csv:2"), std::string::npos) << m;
}

TEST(DatasetLayouts, ManifestAndFolderGoThroughTheSameResolution) {
  TempDir t("manifest");
  test::write_text(t.path / "m.csv", "path,patient_id,A,B\na.png,p1,1,0\nb.png,p2,0,1\nc.png,p3,1,1\n");
  for (const char* f : {"a.png", "b.png", "c.png"}) test::write_tiny_png(t.path / f);
  LayoutRequest r;
  r.train = (t.path / "m.csv").string();
  r.labels = {"B"};
  r.val_split = 0.34;
  const ResolvedData got = resolve_dataset(r);
  EXPECT_EQ(got.summary.format, "manifest");
  EXPECT_EQ(got.splits.train.classes, std::vector<std::string>{"B"});
  const auto seen = by_path(got.splits);
  EXPECT_EQ(seen.at("c.png").targets, std::vector<float>{1});
  EXPECT_EQ(seen.at("a.png").targets, std::vector<float>{0});
  EXPECT_EQ(seen.at("a.png").patient.size(), 16u);
  r.views = {"PA"};
  EXPECT_NE(message(r).find("data.views"), std::string::npos);
}

}  // namespace
}  // namespace cxr
