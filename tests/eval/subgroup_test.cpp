// Subgroups by DICOM attribute or manifest column (io/subgroup_attributes.h, eval --subgroups):
// identifying keys are refused with the reason, in keyword, tag and CSV spellings; ages band in
// 20 years with 90+ folded; a key with too many values is refused. The canary: DICOM files
// written by the project's writer, their patient name, ID, birth date and accession number set
// to a unique string, go through the dataset dry run, train (and its report), eval
// --subgroups sex,age,view,manufacturer and report; the string appears in no file written and in
// no stdout/stderr. A group's AUROC is recomputed here from predictions.csv by counting pairs.
// The recipe's eval.subgroups and subgroup_min_size drive train's test evaluation and eval without
// --subgroups; an identifying key there stops train before its first step.
#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "io/csv.h"
#include "io/dicom_writer.h"
#include "io/subgroup_attributes.h"
#include "io/synthetic_cxr.h"
#include "tests/support/cli_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string refusal(const std::string& key) {
  try {
    parse_subgroup_keys({key});
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(SubgroupKeys, IdentifyingAttributesAreRefusedWithTheReason) {
  for (const char* key : {"PatientName", "patient_id", "Patient ID", "PatientBirthDate", "dob", "AccessionNumber",
                          "(0010,0010)", "0010,0020", "00100030", "(0008,0050)", "StudyInstanceUID", "subject_id",
                          "InstitutionName", "Path", "StudyDate"}) {
    const std::string why = refusal(key);
    EXPECT_NE(why.find("refused"), std::string::npos) << key << ": " << why;
    EXPECT_NE(why.find("PS3.15"), std::string::npos) << key << ": " << why;
  }
  EXPECT_NE(refusal("dob").find("date of birth"), std::string::npos);
  EXPECT_NE(refusal("patient_id").find("identifies a person"), std::string::npos);
  EXPECT_NE(refusal("(0020,000D)").find("studyinstanceuid"), std::string::npos);
}

TEST(SubgroupKeys, TheFourAttributesTagsAndColumns) {
  const auto keys = parse_subgroup_keys({"sex", " age ", "(0018,5101)", "manufacturer", "Sex", "Patient Age"});
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_TRUE(keys[0].dicom);
  EXPECT_EQ(keys[0].group, 0x0010);
  EXPECT_EQ(keys[0].element, 0x0040);
  EXPECT_TRUE(keys[1].age);
  EXPECT_EQ(keys[2].name, "view");
  EXPECT_EQ(keys[2].element, 0x5101);
  EXPECT_FALSE(keys[4].dicom);  // "Sex" is a manifest column (CheXpert's)
  EXPECT_TRUE(keys[5].age);     // NIH's "Patient Age" is banded
  EXPECT_THROW(parse_subgroup_keys({"sex", "sex"}), UsageError);
  EXPECT_THROW(parse_subgroup_keys({""}), UsageError);
  EXPECT_THROW(parse_subgroup_keys({"(0028,0010)"}), UsageError);  // a tag, but not one of the four
  EXPECT_EQ(parse_subgroup_keys({"(0018", "5101)", "sex"}).size(), 2u);  // a list cut the tag at its comma
  EXPECT_NE(refusal("(0010").find("not a DICOM tag"), std::string::npos);
}

TEST(SubgroupKeys, AgeStrings) {
  EXPECT_DOUBLE_EQ(age_in_years("045Y"), 45);
  EXPECT_DOUBLE_EQ(age_in_years("018M"), 1.5);
  EXPECT_NEAR(age_in_years("052W"), 52 * 7 / 365.25, 1e-12);
  EXPECT_DOUBLE_EQ(age_in_years("71"), 71);
  EXPECT_LT(age_in_years("old"), 0);
  EXPECT_LT(age_in_years("45X"), 0);
}

class SubgroupFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cxr_subgroups_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(SubgroupFiles, ManifestColumnsBandAgesAndTooManyValuesAreRefused) {
  std::ofstream(root_ / "m.csv") << "path,label,split,Age,Site\n"
                                    "a.png,x,test,19,s1\nb.png,y,test,20,s1\nc.png,x,test,95,s2\nd.png,y,test,,s2\n";
  const auto keys = parse_subgroup_keys({"Age", "Site"});
  const std::vector<std::string> rel{"a.png", "b.png", "c.png", "d.png", "e.png"};
  EXPECT_EQ(subgroup_values(keys[0], {}, rel, (root_ / "m.csv").string()),
            (std::vector<std::string>{"0-19", "20-39", "90+", "unknown", "unknown"}));
  EXPECT_EQ(subgroup_values(keys[1], {}, rel, (root_ / "m.csv").string()),
            (std::vector<std::string>{"s1", "s1", "s2", "s2", "unknown"}));
  EXPECT_THROW(subgroup_values(parse_subgroup_keys({"Nope"})[0], {}, rel, (root_ / "m.csv").string()), UsageError);
  EXPECT_THROW(subgroup_values(keys[1], {}, rel, ""), UsageError);  // a folder set has no columns
  std::string many = "path,label,split,Code\n";
  std::vector<std::string> rows;
  for (int i = 0; i < 40; ++i) {
    many += "i" + std::to_string(i) + ".png,x,test,c" + std::to_string(i) + "\n";
    rows.push_back("i" + std::to_string(i) + ".png");
  }
  std::ofstream(root_ / "many.csv") << many;
  try {
    subgroup_values(parse_subgroup_keys({"Code"})[0], {}, rows, (root_ / "many.csv").string());
    FAIL() << "40 distinct values were accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("names individuals"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("c17"), std::string::npos) << "a value reached the message";
  }
}

const char* const kCanary = "QZCANARY7731";

// A phantom DICOM by the project's writer, then the identifying tags set to the canary and the
// demographics to `sex`, `age`, `view`.
void write_case(const fs::path& path, bool pneumonia, uint64_t index, const std::string& sex, const std::string& age,
                const std::string& view) {
  write_dicom(path.string(), make_chest_phantom({32, pneumonia, 5, index}), DicomEncoding{},
              std::string(kCanary) + "-ID");
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(path.c_str()).good());
  DcmDataset& ds = *file.getDataset();
  ds.putAndInsertString(DCM_PatientName, (std::string(kCanary) + "^NAME").c_str());
  ds.putAndInsertString(DCM_PatientBirthDate, kCanary);
  ds.putAndInsertString(DCM_AccessionNumber, (std::string(kCanary) + "-ACC").c_str());
  ds.putAndInsertString(DCM_OtherPatientNames, (std::string(kCanary) + "^OTHER").c_str());
  ds.putAndInsertString(DCM_PatientSex, sex.c_str());
  ds.putAndInsertString(DCM_PatientAge, age.c_str());
  ds.putAndInsertString(DCM_ViewPosition, view.c_str());
  ASSERT_TRUE(file.saveFile(path.c_str()).good());
}

// AUROC by counting every positive-negative pair (ties count one half).
double pair_auroc(const std::vector<double>& pos, const std::vector<double>& neg) {
  double wins = 0;
  for (double p : pos)
    for (double n : neg) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  return wins / static_cast<double>(pos.size() * neg.size());
}

TEST_F(SubgroupFiles, CanaryIdentifiersReachNoOutput) {
  const fs::path data = root_ / "data";
  std::map<std::string, std::string> sex_of;  // test image (relative path) → sex
  uint64_t index = 0;
  for (const auto& [split, n] : std::vector<std::pair<std::string, int>>{{"train", 8}, {"val", 4}, {"test", 40}})
    for (const char* cls : {"NORMAL", "PNEUMONIA"}) {
      fs::create_directories(data / split / cls);
      for (int i = 0; i < n; ++i, ++index) {
        // 40 F and 30 M test images (scored: 30 is the minimum), 10 O (too small); two age bands, two views.
        const std::string sex = i % 8 == 0 ? "O" : i % 2 ? "F" : "M";
        const std::string name = std::string(cls) + "/img" + std::to_string(index) + ".dcm";
        write_case(data / split / name, std::string(cls) == "PNEUMONIA", index, sex, i % 3 ? "045Y" : "072Y",
                   i % 2 ? "PA" : "AP");
        if (split == "test") sex_of[name] = sex;
      }
    }
  // The inputs do hold the canary (else the test below proves nothing).
  ASSERT_NE(test::slurp(data / "test/NORMAL/img24.dcm").find(std::string(kCanary) + "^NAME"), std::string::npos);
  ASSERT_NE(test::slurp(data / "test/NORMAL/img24.dcm").find(std::string(kCanary) + "-ACC"), std::string::npos);
  std::ofstream(root_ / "recipe.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " << (data / "train").string()
                                       << "\n  val: " << (data / "val").string() << "\n  test: " << (data / "test").string()
                                       << "\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 8\n  threads: 2\n"
                                          "optimizer:\n  name: adam\n  lr: 1.0e-3\n"
                                          "eval:\n  subgroups: [sex, view]\n  subgroup_min_size: 35\n";
  const fs::path run = root_ / "run";
  std::string console;
  auto step = [&](const std::string& args, int expected) {
    const test::Result r = test::run_cxrtune(args, root_ / "step.log");
    console += r.output;
    EXPECT_EQ(r.code, expected) << args << "\n" << r.output;
    return r;
  };
  step("dataset " + (root_ / "recipe.yaml").string(), 0);
  // An identifying key in the recipe's eval.subgroups stops train before any step, with the reason.
  const test::Result refused = step("train " + (root_ / "recipe.yaml").string() + " --out " + (root_ / "refused").string() +
                                        " --set 'eval.subgroups=[sex, PatientName]'",
                                    2);
  EXPECT_NE(refused.output.find("eval.subgroups PatientName: refused"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(root_ / "refused" / "metrics.jsonl"));
  step("train " + (root_ / "recipe.yaml").string() + " --out " + run.string(), 0);
  {
    // train's evaluation of data.test took the recipe's eval.subgroups and subgroup_min_size.
    const json t = json::parse(test::slurp(run / "eval/metrics.json"));
    ASSERT_TRUE(t.contains("subgroups")) << t.dump();
    EXPECT_EQ(t["subgroups"]["min_size"], 35);
    EXPECT_TRUE(t["subgroups"]["keys"].contains("sex"));
    EXPECT_TRUE(t["subgroups"]["keys"].contains("view"));
    EXPECT_FALSE(t["subgroups"]["keys"].contains("age"));
    for (const json& g : t["subgroups"]["keys"]["sex"]["groups"])
      if (g["value"] == "M") EXPECT_EQ(g["status"], "too small");  // 30 images < 35
  }
  // eval on the run's checkpoint, without --subgroups: the recipe's keys again.
  step("eval --checkpoint " + (run / "checkpoints/last.safetensors").string() + " --data " + (data / "test").string() +
           " --bootstrap 0 --out " + (root_ / "r/metrics.json").string(),
       0);
  EXPECT_EQ(json::parse(test::slurp(root_ / "r/metrics.json"))["subgroups"]["keys"].size(), 2u);
  const std::string eval = "eval --checkpoint " + (run / "checkpoints/last.safetensors").string() + " --data " +
                           (data / "test").string() + " --bootstrap 20 --subgroup-min-size 30";
  const std::string out = " --out " + (run / "eval/metrics.json").string();
  const test::Result table = step(eval + out + " --subgroups sex,age,view,manufacturer", 0);
  EXPECT_NE(table.output.find("too small"), std::string::npos) << table.output;
  step(eval + " --subgroups sex,age,view,manufacturer --format json --out " + (root_ / "j/metrics.json").string(), 0);
  step("report " + run.string() + " -o " + (run / "report.html").string(), 0);
  for (const char* key : {"PatientName", "patient_id", "(0010,0030)", "AccessionNumber"}) {
    const test::Result r = step(eval + out + " --subgroups 'sex," + std::string(key) + "'", 2);
    EXPECT_NE(r.output.find("refused"), std::string::npos) << r.output;
  }
  fs::remove(root_ / "step.log");

  EXPECT_EQ(console.find(kCanary), std::string::npos) << "the canary reached stdout/stderr";
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    if (!e.is_regular_file() || e.path().string().rfind(data.string(), 0) == 0) continue;
    ++files;
    EXPECT_EQ(test::slurp(e.path()).find(kCanary), std::string::npos) << "the canary reached " << e.path();
  }
  EXPECT_GT(files, 5);

  const json m = json::parse(test::slurp(run / "eval/metrics.json"));
  const json& sex = m["subgroups"]["keys"]["sex"];
  ASSERT_EQ(sex["groups"].size(), 3u) << sex.dump();
  std::map<std::string, json> by_value;
  for (const json& g : sex["groups"]) by_value[g["value"]] = g;
  EXPECT_EQ(by_value["O"]["status"], "too small");
  EXPECT_EQ(by_value["O"]["count"], 10);
  EXPECT_FALSE(by_value["O"]["per_class"]["PNEUMONIA"].contains("auroc"));
  EXPECT_EQ(m["subgroups"]["keys"]["age"]["groups"][0]["value"], "40-59");
  EXPECT_EQ(m["subgroups"]["keys"]["manufacturer"]["groups"][0]["value"], "cxrtune synthetic phantom");
  // The F group's AUROC from predictions.csv, by pairs.
  std::ifstream preds(run / "eval/predictions.csv");
  std::vector<std::string> row;
  int64_t line = 1;
  ASSERT_TRUE(read_csv_record(preds, row, line));
  std::vector<double> pos, neg;
  while (read_csv_record(preds, row, line)) {
    if (sex_of.at(row[0]) != "F") continue;
    (row[1] == "PNEUMONIA" ? pos : neg).push_back(std::stod(row[3]));
  }
  ASSERT_EQ(by_value["F"]["status"], "scored");
  EXPECT_EQ(by_value["F"]["count"], 40);
  EXPECT_EQ(by_value["M"]["status"], "scored");
  EXPECT_EQ(by_value["M"]["count"], 30);
  EXPECT_EQ(by_value["F"]["per_class"]["PNEUMONIA"]["positives"], static_cast<int64_t>(pos.size()));
  EXPECT_NEAR(by_value["F"]["per_class"]["PNEUMONIA"]["auroc"].get<double>(), pair_auroc(pos, neg), 1e-12);
}

}  // namespace
}  // namespace cxr
