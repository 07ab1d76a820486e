// `train` never destroys a run: a finished run survives a second `train --out` byte for byte;
// --force starts over; a failed start (bad recipe, one class with cross-entropy, validation
// given twice) leaves the file system as it was; --resume continues the run's own recipe (only
// train.epochs / train.max_steps may change) and --resume RUN --out NEW forks, leaving RUN as it
// was; --no-report prints no report path.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/cli_run.h"

namespace {

namespace fs = std::filesystem;

using cxr::test::Result;
using cxr::test::slurp;

Result run(const std::string& args, const fs::path& log) { return cxr::test::run_cxrtune(args, log); }

// Every file under `dir` (but the lock) with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != ".lock") out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return out;
}

class RunDirectory : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    root_ = base / ("cxr_rundir_" + std::to_string(getpid()));
    fs::create_directories(root_);
    const Result r = run("demo-data " + (root_ / "data").string() + " --count 12 --size 40 --seed 5", root_ / "data.log");
    ASSERT_EQ(r.code, 0) << r.output;
    recipe_ = "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " + (root_ / "data/train").string() +
              "\n  val: " + (root_ / "data/val").string() +
              "\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 3\n  backend: reference\n  threads: 1\n"
              "optimizer:\n  name: sgd\n  lr: 0.01\n  freeze: [conv1, layer1, layer2]\n";
    std::ofstream(root_ / "recipe.yaml") << recipe_;
    std::ofstream(root_ / "other.yaml") << recipe_ << "loss:\n  label_smoothing: 0.1\n";
    finished_ = root_ / "finished";
    const Result t = run("train " + (root_ / "recipe.yaml").string() + " --out " + finished_.string(), root_ / "f.log");
    ASSERT_EQ(t.code, 0) << t.output;
    fs::create_directories(finished_ / "eval");
    std::ofstream(finished_ / "eval/metrics.json") << "{\"auroc\": 0.5}\n";
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static inline fs::path root_, finished_;
  static inline std::string recipe_;
};

TEST_F(RunDirectory, FinishedRunSurvivesASecondTrainOut) {
  const auto before = snapshot(finished_);
  const Result r = run("train " + (root_ / "other.yaml").string() + " --out " + finished_.string(), root_ / "again.log");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  EXPECT_TRUE(snapshot(finished_) == before);
}

TEST_F(RunDirectory, ForceStartsOverInAClearedDirectory) {
  const fs::path dir = root_ / "forced";
  fs::create_directories(dir / "eval");
  std::ofstream(dir / "eval/metrics.json") << "{}";
  std::ofstream(dir / "metrics.jsonl") << "{\"kind\":\"step\",\"step\":99,\"epoch\":0,\"loss\":1}\n";
  const Result r = run("train " + (root_ / "recipe.yaml").string() + " --out " + dir.string() + " --force --no-report",
                       root_ / "forced.log");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "eval"));
  EXPECT_EQ(slurp(dir / "metrics.jsonl").find("\"step\":99"), std::string::npos);
  EXPECT_EQ(r.output.find("report:"), std::string::npos) << r.output;  // --no-report: no report path
  EXPECT_FALSE(fs::exists(dir / "report.html"));
}

TEST_F(RunDirectory, FailedStartLeavesTheFileSystemAsItWas) {
  const std::string data = (root_ / "data/train").string();
  std::ofstream(root_ / "one_class.yaml") << recipe_ << "";
  {
    std::string one = recipe_;
    one.replace(one.find("num_classes: 2"), 14, "num_classes: 1");
    std::ofstream(root_ / "one_class.yaml") << one;
    std::ofstream(root_ / "both_val.yaml") << recipe_ << "";
    std::string both = recipe_;
    both.replace(both.find("  image_size"), 0, "  val_split: 0.2\n");
    std::ofstream(root_ / "both_val.yaml") << both;
    std::string missing = recipe_;
    missing.replace(missing.find(data), data.size(), (root_ / "no_such_folder").string());
    std::ofstream(root_ / "missing.yaml") << missing;
  }
  for (const char* name : {"one_class", "both_val", "missing"}) {
    const fs::path dir = root_ / ("failed_" + std::string(name)), nested = root_ / "parent" / name;
    const Result r = run("train " + (root_ / (std::string(name) + ".yaml")).string() + " --out " + dir.string(),
                         root_ / "failed.log");
    EXPECT_EQ(r.code, 2) << name << ": " << r.output;
    EXPECT_FALSE(fs::exists(dir)) << name;
    const Result n = run("train " + (root_ / (std::string(name) + ".yaml")).string() + " --out " + nested.string(),
                         root_ / "failed.log");
    EXPECT_EQ(n.code, 2) << name << ": " << n.output;
    EXPECT_FALSE(fs::exists(root_ / "parent")) << name;
  }
  EXPECT_NE(run("train " + (root_ / "one_class.yaml").string() + " --out " + (root_ / "x").string(), root_ / "l.log")
                .output.find("num_classes"),
            std::string::npos);
  EXPECT_NE(run("train " + (root_ / "both_val.yaml").string() + " --out " + (root_ / "x").string(), root_ / "l.log")
                .output.find("val_split"),
            std::string::npos);
}

TEST_F(RunDirectory, ResumeContinuesItsOwnRecipeAndForksExplicitly) {
  const auto before = snapshot(finished_);
  // Another recipe with --resume: refused, nothing changed.
  Result r = run("train " + (root_ / "other.yaml").string() + " --resume " + finished_.string(), root_ / "r1.log");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("label_smoothing"), std::string::npos) << r.output;
  r = run("train --resume " + finished_.string() + " --set optimizer.lr=0.5", root_ / "r2.log");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(snapshot(finished_) == before);
  // A fork with more epochs: the copy continues, the original stays as it was.
  const fs::path fork = root_ / "fork";
  r = run("train --resume " + finished_.string() + " --out " + fork.string() + " --no-report --set train.epochs=2",
          root_ / "r3.log");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("train.epochs 1 -> 2"), std::string::npos) << r.output;
  EXPECT_TRUE(snapshot(finished_) == before);
  EXPECT_FALSE(fs::exists(fork / "eval"));  // the original's evaluation is not the fork's
  const std::string metrics = slurp(fork / "metrics.jsonl");
  EXPECT_EQ(metrics.rfind(slurp(finished_ / "metrics.jsonl"), 0), 0u);  // the original's records, then more
  EXPECT_GT(metrics.size(), slurp(finished_ / "metrics.jsonl").size());
}

}  // namespace
