// eval --subgroups on a run whose recipe reads NIH ChestX-ray14 as distributed (data.format:
// nih, PNG images: no DICOM tags): sex, age and view come from Data_Entry_2017.csv's Patient
// Gender, Patient Age ("058Y" and "75" spellings, 90+ folded) and View Position, in train's
// evaluation of the official test split (the recipe's eval.subgroups), in eval without --data
// (the recipe's test split) and in eval --data Data_Entry_2017.csv (a column key). The group
// counts, statuses and per-class positives below are worked out by hand from the fixture; an
// identifying column of the CSV is refused, an unrecorded one named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "io/image.h"
#include "io/png_io.h"
#include "tests/support/cli_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void tiny_png(const fs::path& file, float grey) {
  fs::create_directories(file.parent_path());
  Image img;
  img.width = 8;
  img.height = 8;
  img.pixels.assign(64, grey);
  write_png(file.string(), img, 8);
}

// 24 train/val images (patients 1-24) and 20 test images (patients 101-120, test_list.txt).
// Test image i: sex blank when i % 5 == 0 (0, 5, 10, 15: 4), else F for odd i (1, 3, 7, 9, 11,
// 13, 17, 19: 8), M for even (2, 4, 6, 8, 12, 14, 16, 18: 8); age "058Y" for i < 6 (40-59: 6),
// "75" for 6 <= i < 12 (60-79: 6), "091Y" for 12 <= i < 16 (90+: 4), "89" for 16, 17 (80-89: 2),
// blank for 18, 19 (unknown: 2); view AP when i % 4 == 0 (0, 4, 8, 12, 16: 5), else PA (15).
// Cardiomegaly when i % 4 < 2 (F: 1, 9, 13, 17 = 4 of 8; M: 4, 8, 12, 16 = 4 of 8), Effusion
// when i % 3 == 0 (F: 3, 9 = 2; M: 6, 12, 18 = 3).
fs::path write_nih_run_data(const fs::path& dir) {
  std::string csv =
      "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
      "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n";
  std::string trainval, test;
  auto findings = [](int i) {
    std::string f;
    if (i % 4 < 2) f = "Cardiomegaly";
    if (i % 3 == 0) f += f.empty() ? "Effusion" : "|Effusion";
    return f.empty() ? std::string("No Finding") : f;
  };
  for (int i = 0; i < 24; ++i) {
    const std::string name = "0000" + std::to_string(100 + i) + "_000.png";
    csv += name + "," + (i % 2 ? "No Finding" : i % 3 ? "Cardiomegaly" : "Cardiomegaly|Effusion") + ",0," + std::to_string(i + 1) + ",45," + (i % 2 ? "F" : "M") + ",PA,8,8,0.1,0.1,\n";
    trainval += name + "\n";
    tiny_png(dir / "images_001/images" / name, i % 2 ? 0.2f : 0.8f);
  }
  for (int i = 0; i < 20; ++i) {
    const std::string name = "0000" + std::to_string(500 + i) + "_000.png";
    const std::string sex = i % 5 == 0 ? "" : i % 2 ? "F" : "M";
    const std::string age = i < 6 ? "058Y" : i < 12 ? "75" : i < 16 ? "091Y" : i < 18 ? "89" : "";
    csv += name + "," + findings(i) + ",0," + std::to_string(101 + i) + "," + age + "," + sex + "," +
           (i % 4 == 0 ? "AP" : "PA") + ",8,8,0.1,0.1,\n";
    test += name + "\n";
    tiny_png(dir / "images_002/images" / name, i % 4 < 2 ? 0.8f : 0.2f);
  }
  std::ofstream(dir / "Data_Entry_2017.csv") << csv;
  std::ofstream(dir / "train_val_list.txt") << trainval;
  std::ofstream(dir / "test_list.txt") << test;
  return dir / "Data_Entry_2017.csv";
}

std::map<std::string, json> groups_of(const json& metrics, const std::string& key) {
  std::map<std::string, json> out;
  for (const json& g : metrics.at("subgroups").at("keys").at(key).at("groups")) out[g.at("value")] = g;
  return out;
}

// value → {count, status}
using Expected = std::map<std::string, std::pair<int, std::string>>;

void expect_groups(const json& m, const std::string& key, const Expected& want) {
  const auto got = groups_of(m, key);
  ASSERT_EQ(got.size(), want.size()) << key << ": " << m["subgroups"]["keys"][key].dump();
  for (const auto& [value, cs] : want) {
    ASSERT_TRUE(got.count(value)) << key << " has no group " << value;
    EXPECT_EQ(got.at(value)["count"], cs.first) << key << "=" << value;
    EXPECT_EQ(got.at(value)["status"], cs.second) << key << "=" << value;
  }
}

void expect_sex_age_view(const json& m) {
  ASSERT_TRUE(m.contains("subgroups")) << m.dump();
  EXPECT_EQ(m["subgroups"]["min_size"], 6);
  expect_groups(m, "sex", {{"F", {8, "scored"}}, {"M", {8, "scored"}}, {"unknown", {4, "too small"}}});
  expect_groups(m, "age", {{"40-59", {6, "scored"}}, {"60-79", {6, "scored"}}, {"80-89", {2, "too small"}},
                           {"90+", {4, "too small"}}, {"unknown", {2, "too small"}}});
  expect_groups(m, "view", {{"AP", {5, "too small"}}, {"PA", {15, "scored"}}});
  const auto sex = groups_of(m, "sex");
  EXPECT_EQ(sex.at("F")["per_class"]["Cardiomegaly"]["positives"], 4);
  EXPECT_EQ(sex.at("F")["per_class"]["Cardiomegaly"]["negatives"], 4);
  EXPECT_EQ(sex.at("F")["per_class"]["Effusion"]["positives"], 2);
  EXPECT_EQ(sex.at("M")["per_class"]["Effusion"]["positives"], 3);
  EXPECT_TRUE(sex.at("F")["per_class"]["Cardiomegaly"]["auroc"].is_number());
  EXPECT_FALSE(sex.at("unknown")["per_class"]["Cardiomegaly"].contains("auroc"));  // too small: not scored
  EXPECT_NE(m["subgroups"]["keys"]["sex"]["source"].get<std::string>().find("nih layout"), std::string::npos);
}

TEST(LayoutSubgroups, NihRunSexAgeViewFromTheLabelFile) {
  const fs::path root = fs::temp_directory_path() / ("cxr_layout_subgroups_" + std::to_string(getpid()));
  fs::remove_all(root);
  const fs::path csv = write_nih_run_data(root / "nih");
  std::ofstream(root / "recipe.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\n"
                                         "data:\n  format: nih\n  train: " << csv.string()
                                      << "\n  labels: [Cardiomegaly, Effusion]\n  val_split: 0.5\n  image_size: 32\n"
                                         "train:\n  epochs: 1\n  batch_size: 4\n  threads: 2\n"
                                         "optimizer:\n  name: adam\n  lr: 1.0e-3\nloss:\n  name: bce\n"
                                         "eval:\n  subgroups: [sex, age, view]\n  subgroup_min_size: 6\n";
  const fs::path run = root / "run";
  auto step = [&](const std::string& args, int expected) {
    const test::Result r = test::run_cxrtune(args, root / "step.log");
    EXPECT_EQ(r.code, expected) << args << "\n" << r.output;
    return r;
  };
  step("train " + (root / "recipe.yaml").string() + " --out " + run.string() + " --no-report", 0);
  // train evaluated the layout's official test split with the recipe's eval.subgroups.
  if (fs::exists(run / "eval/metrics.json")) {
    const json t = json::parse(test::slurp(run / "eval/metrics.json"));
    EXPECT_EQ(t["count"], 20);
    expect_sex_age_view(t);
  } else {
    ADD_FAILURE() << "train wrote no eval/metrics.json (no best checkpoint?)";
  }
  const std::string ckpt = (run / "checkpoints/last.safetensors").string();
  // eval without --data: the recipe's test split, the recipe's keys.
  step("eval --checkpoint " + ckpt + " --bootstrap 0 --out " + (root / "a/metrics.json").string(), 0);
  expect_sex_age_view(json::parse(test::slurp(root / "a/metrics.json")));
  // eval --data the label file, the keys on the command line (columns by their CSV names too).
  const test::Result table = step("eval --checkpoint " + ckpt + " --data " + csv.string() +
                                      " --bootstrap 0 --subgroup-min-size 6 --subgroups 'sex,age,view,Patient Age' --out " +
                                      (root / "b/metrics.json").string(),
                                  0);
  EXPECT_NE(table.output.find("too small"), std::string::npos) << table.output;
  const json b = json::parse(test::slurp(root / "b/metrics.json"));
  expect_sex_age_view(b);
  expect_groups(b, "Patient Age", {{"40-59", {6, "scored"}}, {"60-79", {6, "scored"}}, {"80-89", {2, "too small"}},
                                   {"90+", {4, "too small"}}, {"unknown", {2, "too small"}}});
  // An identifying column of the layout's CSV is refused; a column the layout does not keep is named.
  const test::Result id = step("eval --checkpoint " + ckpt + " --data " + csv.string() + " --subgroups 'sex,Patient ID' --out " +
                                   (root / "c/metrics.json").string(),
                               2);
  EXPECT_NE(id.output.find("Patient ID: refused"), std::string::npos) << id.output;
  const test::Result other = step("eval --checkpoint " + ckpt + " --data " + csv.string() + " --subgroups 'Follow-up #' --out " +
                                      (root / "c/metrics.json").string(),
                                  2);
  EXPECT_NE(other.output.find("the nih layout records"), std::string::npos) << other.output;
  EXPECT_FALSE(fs::exists(root / "c/metrics.json"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace cxr
