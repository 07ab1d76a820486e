// `cxrtune dataset` end to end: CSV columns path,split,patient,<label>...,<label>_mask..., every
// field quoted, an ignored label empty with mask 0, the salted patient key instead of the id,
// --split and --format json, and the summary on stderr. Skipped when the executable is not built.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/io/layout_fixtures.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int rc = 0;
  std::string out, err;
};

CliRun cxrtune(const fs::path& dir, const std::string& args) {
  const std::string exe = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";
  CliRun r;
  if (!fs::exists(exe)) {
    r.rc = -1;
    return r;
  }
  const std::string cmd = exe + " " + args + " > " + (dir / "out.txt").string() + " 2> " + (dir / "err.txt").string();
  r.rc = WEXITSTATUS(std::system(cmd.c_str()));
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(dir / "out.txt");
  r.err = slurp(dir / "err.txt");
  return r;
}

TEST(DatasetCommand, PrintsQuotedRowsMasksAndKeysWithTheSummaryOnStderr) {
  test::TempDir t("dataset_cmd");
  const std::string csv = test::write_chexpert(t.path);
  test::write_text(t.path / "r.yaml", "model: {num_classes: 2}\nloss: {name: bce}\ndata:\n  train: " + csv +
                                          "\n  labels: [Cardiomegaly, Edema]\n");
  const CliRun r = cxrtune(t.path, "dataset " + (t.path / "r.yaml").string());
  if (r.rc == -1) GTEST_SKIP() << "cxrtune is not built";
  ASSERT_EQ(r.rc, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  EXPECT_EQ(header, "\"path\",\"split\",\"patient\",\"Cardiomegaly\",\"Edema\",\"Cardiomegaly_mask\",\"Edema_mask\"");
  // Row 1: Cardiomegaly 1.0, Edema -1.0 (ignored under the default data.uncertain: ignore).
  EXPECT_EQ(first.rfind("\"CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg\",\"train\",\"", 0), 0u) << first;
  const std::string tail = "\",\"1\",\"\",\"1\",\"0\"";
  ASSERT_GT(first.size(), tail.size());
  EXPECT_EQ(first.substr(first.size() - tail.size()), tail) << first;
  EXPECT_NE(r.err.find("samples: train 3, val 1, test 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("files skipped: 0"), std::string::npos) << r.err;

  const CliRun val = cxrtune(t.path, "dataset " + (t.path / "r.yaml").string() + " --split val --format json --set data.uncertain=ones");
  ASSERT_EQ(val.rc, 0) << val.err;
  EXPECT_NE(val.out.find("\"split\": \"val\""), std::string::npos) << val.out;
  EXPECT_EQ(val.out.find("\"train\""), std::string::npos) << val.out;
}

TEST(DatasetCommand, NeverPrintsThePatientId) {
  test::TempDir t("dataset_cmd_id");
  test::write_text(t.path / "m.csv", "path,split,patient_id,A\na.png,train,MRN-0012345,1\nb.png,val,MRN-0099999,0\n");
  test::write_tiny_png(t.path / "a.png");
  test::write_tiny_png(t.path / "b.png");
  test::write_text(t.path / "r.yaml", "loss: {name: bce}\ndata: {train: " + (t.path / "m.csv").string() + "}\n");
  const CliRun r = cxrtune(t.path, "dataset " + (t.path / "r.yaml").string());
  if (r.rc == -1) GTEST_SKIP() << "cxrtune is not built";
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.find("MRN"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("MRN"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("\"a.png\",\"train\",\""), std::string::npos) << r.out;
}

TEST(DatasetCommand, RecipeErrorsKeepFileLineAndColumn) {
  test::TempDir t("dataset_cmd_err");
  test::write_text(t.path / "r.yaml", "data:\n  train: x.csv\n  uncertain: maybe\n");
  const CliRun r = cxrtune(t.path, "dataset " + (t.path / "r.yaml").string());
  if (r.rc == -1) GTEST_SKIP() << "cxrtune is not built";
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("r.yaml:3:14: data.uncertain: 'maybe' is not one of ignore, ones, zeros"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cxr
