// The subgroup attributes each official layout records per sample (io/dataset_layouts.h,
// io/subgroup_attributes.h): sex normalised to M / F / O / unknown from "M", "Female", ...;
// ages ("058Y" or "58") in the 20-year bands of engine/subgroups.h with 90 and over folded;
// the view as data.views sees it; the layout's own non-identifying columns raw, by header name;
// nothing for RSNA (its DICOMs carry the tags). Subgroup values read from them, raw age columns
// banded, identifying columns refused as keys, unrecorded ones named; eval's test data of a
// layout file (resolve_test_data): the official test split, else every image of the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/errors.h"
#include "io/dataset.h"
#include "io/dataset_layouts.h"
#include "io/subgroup_attributes.h"
#include "tests/io/layout_fixtures.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// relative path → {attribute name → value ("" when not recorded)}, every split together.
using Attributes = std::map<std::string, std::map<std::string, std::string>>;

Attributes attributes_of(const DataSplits& d) {
  Attributes out;
  for (const Dataset* x : {&d.train, &d.val, d.test ? &*d.test : nullptr}) {
    if (!x) continue;
    for (const Sample& s : x->samples)
      for (size_t i = 0; i < x->attribute_names.size(); ++i) out[s.relative][x->attribute_names[i]] = attribute_text(s.attributes[i]);
  }
  return out;
}

// NIH with the values the distributed file and its older release use: ages "058Y" and "58",
// 90+ ("091Y", "95"), blanks.
std::string write_nih_demographics(const fs::path& root) {
  test::write_text(root / "Data_Entry_2017.csv",
                   "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
                   "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n"
                   "a.png,Cardiomegaly,0,1,058Y,M,PA,1,1,0.1,0.1,\n"
                   "b.png,No Finding,0,2,58,F,AP,1,1,0.1,0.1,\n"
                   "c.png,No Finding,0,3,091Y,F,pa,1,1,0.1,0.1,\n"
                   "d.png,Effusion,0,4,95,,AP,1,1,0.1,0.1,\n"
                   "e.png,No Finding,0,5,,O,,1,1,0.1,0.1,\n"
                   "f.png,No Finding,0,6,19,X,PA,1,1,0.1,0.1,\n");
  for (const char* f : {"a.png", "b.png", "c.png", "d.png", "e.png", "f.png"}) test::write_tiny_png(root / "images_001/images" / f);
  test::write_text(root / "train_val_list.txt", "a.png\nb.png\nc.png\nd.png\n");
  test::write_text(root / "test_list.txt", "e.png\nf.png\n");
  return (root / "Data_Entry_2017.csv").string();
}

TEST(LayoutAttributes, NihSexAgeViewNormalisedAndItsColumnsRaw) {
  TempDir t("attr_nih");
  LayoutRequest r;
  r.train = write_nih_demographics(t.path);
  r.val_split = 0.5;  // two of the four train_val patients
  const ResolvedData got = resolve_dataset(r);
  EXPECT_EQ(got.splits.train.layout, "nih");
  EXPECT_EQ(got.splits.train.attribute_names,
            (std::vector<std::string>{"sex", "age", "view", "Patient Gender", "Patient Age", "View Position"}));
  const Attributes a = attributes_of(got.splits);
  using Row = std::map<std::string, std::string>;
  const std::string dir = "images_001/images/";
  EXPECT_EQ(a.at(dir + "a.png"), (Row{{"sex", "M"}, {"age", "40-59"}, {"view", "PA"}, {"Patient Gender", "M"},
                                      {"Patient Age", "058Y"}, {"View Position", "PA"}}));
  EXPECT_EQ(a.at(dir + "b.png"), (Row{{"sex", "F"}, {"age", "40-59"}, {"view", "AP"}, {"Patient Gender", "F"},
                                      {"Patient Age", "58"}, {"View Position", "AP"}}));
  EXPECT_EQ(a.at(dir + "c.png").at("age"), "90+");
  EXPECT_EQ(a.at(dir + "c.png").at("view"), "PA");           // upper case, as data.views sees it
  EXPECT_EQ(a.at(dir + "c.png").at("View Position"), "pa");  // the column as written
  EXPECT_EQ(a.at(dir + "d.png").at("age"), "90+");
  EXPECT_EQ(a.at(dir + "d.png").at("sex"), "");  // blank: not recorded
  EXPECT_EQ(a.at(dir + "e.png"), (Row{{"sex", "O"}, {"age", ""}, {"view", ""}, {"Patient Gender", "O"},
                                      {"Patient Age", ""}, {"View Position", ""}}));
  EXPECT_EQ(a.at(dir + "f.png").at("sex"), "");  // "X" is none of M, F, O
  EXPECT_EQ(a.at(dir + "f.png").at("age"), "0-19");
}

TEST(LayoutAttributes, ChexpertSexAgeViewAndItsColumns) {
  TempDir t("attr_chexpert");
  const std::string header =
      "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,"
      "Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,"
      "Fracture,Support Devices\n";
  const fs::path dir = t.path / "CheXpert-v1.0-small";
  const std::string p = "CheXpert-v1.0-small/train/";
  test::write_text(dir / "train.csv", header + p + "patient00001/study1/view1_frontal.jpg,Female,68,Frontal,PA,,,1.0,,,,,,,,,,,\n" +
                                          p + "patient00001/study1/view2_lateral.jpg,Female,68,Lateral,,,,,,,,,,,,,,,\n" +
                                          p + "patient00002/study1/view1_frontal.jpg,Male,90,Frontal,AP,,,,,,,,,,,,,,\n" +
                                          p + "patient00003/study1/view1_frontal.jpg,Unknown,,Frontal,,,,,,,,,,,,,,,\n");
  test::write_text(dir / "valid.csv", header + "CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg,Male,39,Frontal,PA,,,1.0,,,,,,,,,,,\n");
  for (const char* f : {"train/patient00001/study1/view1_frontal.jpg", "train/patient00001/study1/view2_lateral.jpg",
                        "train/patient00002/study1/view1_frontal.jpg", "train/patient00003/study1/view1_frontal.jpg",
                        "valid/patient64541/study1/view1_frontal.jpg"})
    test::write_tiny_png(dir / f);
  LayoutRequest r;
  r.train = (dir / "train.csv").string();
  const ResolvedData got = resolve_dataset(r);
  EXPECT_EQ(got.splits.val.attribute_names,
            (std::vector<std::string>{"sex", "age", "view", "Sex", "Age", "Frontal/Lateral", "AP/PA"}));
  const Attributes a = attributes_of(got.splits);
  using Row = std::map<std::string, std::string>;
  EXPECT_EQ(a.at(p + "patient00001/study1/view1_frontal.jpg"),
            (Row{{"sex", "F"}, {"age", "60-79"}, {"view", "PA"}, {"Sex", "Female"}, {"Age", "68"}, {"Frontal/Lateral", "Frontal"}, {"AP/PA", "PA"}}));
  EXPECT_EQ(a.at(p + "patient00001/study1/view2_lateral.jpg").at("view"), "LATERAL");
  EXPECT_EQ(a.at(p + "patient00001/study1/view2_lateral.jpg").at("AP/PA"), "");
  EXPECT_EQ(a.at(p + "patient00002/study1/view1_frontal.jpg").at("sex"), "M");
  EXPECT_EQ(a.at(p + "patient00002/study1/view1_frontal.jpg").at("age"), "90+");
  EXPECT_EQ(a.at(p + "patient00003/study1/view1_frontal.jpg"),
            (Row{{"sex", ""}, {"age", ""}, {"view", ""}, {"Sex", "Unknown"}, {"Age", ""}, {"Frontal/Lateral", "Frontal"}, {"AP/PA", ""}}));
  EXPECT_EQ(a.at("CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg").at("age"), "20-39");
}

TEST(LayoutAttributes, MimicRecordsTheViewAndItsMetadataDescriptionsRsnaNothing) {
  TempDir t("attr_mimic");
  LayoutRequest r;
  r.train = test::write_mimic(t.path / "mimic");
  const ResolvedData got = resolve_dataset(r);
  // The fixture's metadata has PerformedProcedureStepDescription and ViewPosition (and ids, Rows, Columns: not kept).
  EXPECT_EQ(got.splits.train.attribute_names,
            (std::vector<std::string>{"view", "ViewPosition", "PerformedProcedureStepDescription"}));
  const Attributes a = attributes_of(got.splits);
  EXPECT_EQ(a.at("files/p10/p10000032/s50414267/d2.jpg").at("view"), "LATERAL");
  EXPECT_EQ(a.at("files/p10/p10000033/s50000001/d3.jpg").at("PerformedProcedureStepDescription"), "CHEST (PORTABLE AP)");
  EXPECT_EQ(a.at("files/p10/p10000034/s50000002/d4.jpg").at("view"), "PA");

  LayoutRequest q;
  q.train = test::write_rsna(t.path / "rsna");
  q.val_split = 0.5;
  const ResolvedData rsna = resolve_dataset(q);
  EXPECT_TRUE(rsna.splits.train.attribute_names.empty());
  EXPECT_EQ(rsna.splits.train.layout, "rsna-pneumonia");
}

TEST(LayoutAttributes, SubgroupValuesFromTheLayoutAndIdentifyingColumnsRefused) {
  TempDir t("attr_values");
  LayoutRequest r;
  r.train = write_nih_demographics(t.path);
  r.val_split = 0.5;  // two of the four train_val patients
  const ResolvedData got = resolve_dataset(r);
  Dataset all = got.splits.train;
  for (const Sample& s : got.splits.val.samples) all.samples.push_back(s);
  for (const Sample& s : got.splits.test->samples) all.samples.push_back(s);
  std::vector<std::string> ids;
  for (const char* f : {"a.png", "b.png", "c.png", "d.png", "e.png", "f.png"}) ids.push_back(std::string("images_001/images/") + f);
  ids.push_back("elsewhere.png");  // not in the data set: unknown
  auto values = [&](const std::string& key) { return dataset_subgroup_values(parse_subgroup_keys({key})[0], all, ids, ""); };
  using V = std::vector<std::string>;
  EXPECT_EQ(values("sex"), (V{"M", "F", "F", "unknown", "O", "unknown", "unknown"}));
  EXPECT_EQ(values("age"), (V{"40-59", "40-59", "90+", "90+", "unknown", "0-19", "unknown"}));
  EXPECT_EQ(values("view"), (V{"PA", "AP", "PA", "AP", "unknown", "PA", "unknown"}));
  EXPECT_EQ(values("Patient Age"), (V{"40-59", "40-59", "90+", "90+", "unknown", "0-19", "unknown"}));  // banded
  EXPECT_EQ(values("Patient Gender"), (V{"M", "F", "F", "unknown", "O", "X", "unknown"}));
  // manufacturer is no column of the layout: read from the image's DICOM header, which a PNG lacks.
  EXPECT_EQ(values("manufacturer"), V(7, "unknown"));
  // Identifying columns of the layout's CSV are refused as keys, with the reason.
  for (const char* key : {"Patient ID", "Image Index"}) {
    try {
      values(key);
      FAIL() << key << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
    }
  }
  // A column the layout does not keep: the message names what it records.
  try {
    values("Follow-up #");
    FAIL() << "Follow-up # was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("the nih layout records sex, age, view, Patient Gender"), std::string::npos) << e.what();
  }
}

TEST(LayoutAttributes, EvalTestDataIsTheOfficialTestSplitElseTheWholeFile) {
  TempDir t("attr_test_data");
  LayoutRequest r;
  r.format = "nih";
  r.train = write_nih_demographics(t.path / "nih");
  const Dataset nih = resolve_test_data(r);
  ASSERT_EQ(nih.samples.size(), 2u);  // test_list.txt
  EXPECT_EQ(nih.samples[0].relative, "images_001/images/e.png");
  EXPECT_EQ(nih.attribute_names.size(), 6u);
  EXPECT_EQ(attribute_text(nih.samples[1].attributes[1]), "0-19");
  // CheXpert's valid.csv alone: every image it lists (train.csv beside it is not read).
  test::write_chexpert(t.path / "chexpert");
  LayoutRequest c;
  c.train = (t.path / "chexpert/CheXpert-v1.0-small/valid.csv").string();
  const Dataset valid = resolve_test_data(c);
  ASSERT_EQ(valid.samples.size(), 1u);
  EXPECT_EQ(attribute_text(valid.samples[0].attributes[0]), "M");
  c.train = (t.path / "chexpert/CheXpert-v1.0-small/train.csv").string();
  EXPECT_EQ(resolve_test_data(c).samples.size(), 3u);  // train.csv's rows, not valid.csv's
}

}  // namespace
}  // namespace cxr
