// eval end to end on trained runs: a 3-class cross-entropy run and a 2-label BCE run (a CSV
// manifest), a few steps on 32-pixel phantoms, then `cxrtune eval`; metrics.json's per-class and
// macro AUROC and their DeLong 95 % CIs must equal tests/eval/eval_oracle.py's, which recomputes
// them from predictions.csv by their O(n²) definitions in plain Python (/usr/bin/python3; skipped
// without it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class EvalEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(CXRTUNE_PYTHON)) GTEST_SKIP() << "no " << CXRTUNE_PYTHON << " for the oracle";
    root_ = fs::temp_directory_path() / ("cxr_eval_e2e_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    ASSERT_EQ(cli("demo-data " + (root_ / "set").string() + " --task findings --count 150 --size 32 --seed 3").code, 0);
  }
  void TearDown() override { fs::remove_all(root_); }

  test::Result cli(const std::string& args) { return test::run_cxrtune(args, root_ / "cli.log"); }

  // Trains `recipe_body` (data keys included) for a few steps and evaluates on `data`.
  json train_and_eval(const std::string& name, const std::string& recipe_body, const std::string& data) {
    const fs::path recipe = root_ / (name + ".yaml");
    std::ofstream(recipe) << recipe_body << "train:\n  epochs: 1\n  max_steps: 4\n  batch_size: 16\n  threads: 2\n"
                          << "optimizer:\n  name: adam\n  lr: 1.0e-3\n";
    const test::Result t = cli("train " + recipe.string() + " --out " + (root_ / name).string() + " --no-report");
    EXPECT_EQ(t.code, 0) << t.output;
    const fs::path out = root_ / name / "eval/metrics.json";
    const test::Result e = cli("eval --checkpoint " + (root_ / name / "checkpoints/last.safetensors").string() +
                               " --data " + data + " --bootstrap 0 --out " + out.string());
    EXPECT_EQ(e.code, 0) << e.output;
    return json::parse(test::slurp(out));
  }

  json oracle(const fs::path& predictions) {
    const fs::path log = root_ / "oracle.json";
    const std::string cmd = std::string(CXRTUNE_PYTHON) + " " + CXRTUNE_SOURCE_DIR + "/tests/eval/eval_oracle.py " +
                            predictions.string() + " > " + log.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return json::parse(test::slurp(log));
  }

  void expect_same(const json& m, const json& o, size_t classes) {
    ASSERT_EQ(m["per_class"].size(), classes);
    for (const auto& [name, c] : m["per_class"].items()) {
      SCOPED_TRACE(name);
      ASSERT_TRUE(o.contains(name));
      EXPECT_NEAR(c["auroc"].get<double>(), o[name]["auroc"].get<double>(), 1e-12);
      ASSERT_TRUE(c["auroc_ci95"][0].is_number()) << c.dump();
      EXPECT_NEAR(c["auroc_ci95"][0].get<double>(), o[name]["ci95"][0].get<double>(), 1e-9);
      EXPECT_NEAR(c["auroc_ci95"][1].get<double>(), o[name]["ci95"][1].get<double>(), 1e-9);
    }
    EXPECT_NEAR(m["auroc"].get<double>(), o["macro"]["auroc"].get<double>(), 1e-12);
    ASSERT_TRUE(m["auroc_ci95"][0].is_number()) << m["auroc_ci95"].dump();
    EXPECT_NEAR(m["auroc_ci95"][0].get<double>(), o["macro"]["ci95"][0].get<double>(), 1e-9);
    EXPECT_NEAR(m["auroc_ci95"][1].get<double>(), o["macro"]["ci95"][1].get<double>(), 1e-9);
    // A trained-for-4-steps model is no oracle of truth: the interval must be a real one.
    EXPECT_LT(m["auroc_ci95"][0].get<double>(), m["auroc_ci95"][1].get<double>());
  }

  fs::path root_;
};

TEST_F(EvalEndToEnd, MultiClassCrossEntropyMatchesTheDefinitions) {
  const fs::path set = root_ / "set";
  const json m = train_and_eval("mc",
                                "model:\n  arch: resnet18\n  num_classes: 3\ndata:\n  train: " + (set / "train").string() +
                                    "\n  val: " + (set / "val").string() + "\n  image_size: 32\n",
                                (set / "test").string());
  EXPECT_EQ(m["count"], 30);
  expect_same(m, oracle(root_ / "mc/eval/predictions.csv"), 3);
}

TEST_F(EvalEndToEnd, MultiLabelBceMatchesTheDefinitions) {
  // Two labels from the findings set; NORMAL images are negative for both.
  std::string csv = "path,Cardiomegaly,Nodules,split\n";
  for (const char* split : {"train", "val", "test"})
    for (const auto& e : fs::recursive_directory_iterator(root_ / "set" / split)) {
      if (!e.is_regular_file()) continue;
      const std::string cls = e.path().parent_path().filename().string();
      csv += fs::relative(e.path(), root_ / "set").string() + "," + (cls == "CARDIOMEGALY" ? "1" : "0") + "," +
             (cls == "NODULES" ? "1" : "0") + "," + split + "\n";
    }
  const fs::path manifest = root_ / "set/labels.csv";
  std::ofstream(manifest) << csv;
  const json m = train_and_eval("ml",
                                "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " + manifest.string() +
                                    "\n  image_size: 32\nloss:\n  name: bce\n",
                                manifest.string());
  EXPECT_EQ(m["count"], 30);
  expect_same(m, oracle(root_ / "ml/eval/predictions.csv"), 2);
}

}  // namespace
}  // namespace cxr
