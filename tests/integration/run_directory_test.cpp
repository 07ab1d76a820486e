// `train` never destroys a run: a finished run survives a second `train --out` byte for byte;
// --force starts over; a failed start (bad recipe, one class with cross-entropy, validation
// given twice) leaves the file system as it was; --resume continues the run's own recipe (only
// train.epochs / train.max_steps may change) and --resume RUN --out NEW forks, leaving RUN as it
// was; --no-report prints no report path. A damaged checkpoint field is exit 2 naming the file and
// the field; an in-place --resume removes the stale RUN/eval/; data.test is evaluated into
// RUN/eval/ at the end of training; val_predictions.json holds the best epoch's scores and the
// best checkpoint the Youden thresholds of those scores; eval --calibrate stores a temperature in
// a new checkpoint file (the step directory's hard-linked file unchanged) and later evals report
// calibrated scores.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/operating_point_selection.h"
#include "engine/temperature_scaling.h"
#include "io/weights/safetensors.h"
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

// A copy of the finished run (hard links become plain copies).
fs::path copy_run(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
  return to;
}

TEST_F(RunDirectory, DamagedCheckpointFieldIsExitTwoNamingFileAndField) {
  const fs::path dir = copy_run(finished_, root_ / "damaged");
  const fs::path last = dir / "checkpoints/last.safetensors";
  cxr::StateDict d = cxr::read_safetensors(last.string());
  d.metadata["epoch"] = "x7";
  cxr::write_safetensors(last.string(), d);
  Result r = run("train --resume " + dir.string() + " --no-report --set train.epochs=2", root_ / "damaged.log");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("last.safetensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'epoch'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  d.metadata["epoch"] = "1";
  d.metadata["classes"] = "[\"NORMAL\", 3";
  cxr::write_safetensors(last.string(), d);
  r = run("eval --checkpoint " + last.string() + " --data " + (root_ / "data/test").string() + " --out " +
              (root_ / "damaged_eval/metrics.json").string(),
          root_ / "damaged_eval.log");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("'classes'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

// data.on_bad_file: fail: a listed image that is not one (here an empty file and a text file) is
// found by the header pass before the run directory exists, not mid-epoch.
TEST_F(RunDirectory, UnreadableListedImageStopsTheRunBeforeItsDirectoryExists) {
  const fs::path data = root_ / "data";
  for (const char* bad : {"empty", "text"}) {
    std::string manifest = "path,label,split\n";
    for (const char* split : {"train", "val"})
      for (const char* cls : {"NORMAL", "PNEUMONIA"})
        for (const auto& e : fs::directory_iterator(data / split / cls))
          manifest += e.path().string() + "," + cls + "," + split + "\n";
    const fs::path broken = root_ / (std::string(bad) + "_image.png");
    std::ofstream(broken) << (std::string(bad) == "text" ? "not an image at all\n" : "");
    manifest += broken.string() + ",NORMAL,train\n";
    std::ofstream(root_ / "bad_manifest.csv") << manifest;
    std::string recipe = recipe_;
    recipe.replace(recipe.find("  train: "), recipe.find("  image_size") - recipe.find("  train: "),
                   "  train: " + (root_ / "bad_manifest.csv").string() + "\n");
    std::ofstream(root_ / "bad_manifest.yaml") << recipe;
    const fs::path out = root_ / ("bad_" + std::string(bad));
    const Result r = run("train " + (root_ / "bad_manifest.yaml").string() + " --out " + out.string(), root_ / "bad.log");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(broken.string()), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out)) << bad << ": " << r.output;
  }
}

// A run whose validation loss rises far above its minimum (SGD at lr 0.02 on 7 images, every
// stage training): the train summary states the report's finding (reports/health.h).
TEST_F(RunDirectory, DivergingValidationLossIsAFindingInTheTrainSummary) {
  const std::string recipe = "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " + (root_ / "data/train").string() +
                             "\n  val: " + (root_ / "data/val").string() +
                             "\n  image_size: 32\ntrain:\n  epochs: 5\n  batch_size: 3\n  backend: reference\n"
                             "  threads: 1\noptimizer:\n  name: sgd\n  lr: 0.02\n";
  std::ofstream(root_ / "diverging.yaml") << recipe;
  const Result r = run("train " + (root_ / "diverging.yaml").string() + " --out " + (root_ / "diverging").string() +
                           " --no-report",
                       root_ / "diverging.log");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("finding: validation loss diverged"), std::string::npos) << r.output;
}

TEST_F(RunDirectory, InPlaceResumeRemovesTheStaleEvaluation) {
  const fs::path dir = copy_run(finished_, root_ / "stale");
  ASSERT_TRUE(fs::exists(dir / "eval/metrics.json"));
  const Result r = run("train --resume " + dir.string() + " --no-report --set train.epochs=2", root_ / "stale.log");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "eval")) << r.output;
}

// One run of three epochs with data.test: the test evaluation, the best epoch's predictions and
// thresholds, then calibration.
TEST_F(RunDirectory, TestSetBestEpochThresholdsAndCalibration) {
  using nlohmann::json;
  const fs::path dir = root_ / "with_test";
  std::string recipe = recipe_;
  recipe.replace(recipe.find("  image_size"), 0, "  test: " + (root_ / "data/test").string() + "\n");
  recipe.replace(recipe.find("epochs: 1"), 9, "epochs: 3");
  std::ofstream(root_ / "with_test.yaml") << recipe;
  Result r = run("train " + (root_ / "with_test.yaml").string() + " --out " + dir.string(), root_ / "with_test.log");
  ASSERT_EQ(r.code, 0) << r.output;
  // data.test, evaluated into RUN/eval/ as `cxrtune eval` writes it.
  ASSERT_TRUE(fs::exists(dir / "eval/metrics.json")) << r.output;
  ASSERT_TRUE(fs::exists(dir / "eval/predictions.csv"));
  const json m = json::parse(slurp(dir / "eval/metrics.json"));
  EXPECT_EQ(m["count"], 4);  // demo-data --count 12: 4 test images
  EXPECT_EQ(m["checkpoint"], "best.safetensors");
  EXPECT_FALSE(m.contains("temperature"));

  // val_predictions.json: the epoch of the best validation AUROC (the first of equal ones).
  std::ifstream in(dir / "metrics.jsonl");
  int64_t best_epoch = -1;
  double best = -1;
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    if (j["kind"] == "epoch" && j["val_auroc"].is_number() && j["val_auroc"].get<double>() > best)
      best = j["val_auroc"].get<double>(), best_epoch = j["epoch"].get<int64_t>();
  }
  const json preds = json::parse(slurp(dir / "val_predictions.json"));
  EXPECT_EQ(preds["epoch"].get<int64_t>(), best_epoch);

  // The best checkpoint's thresholds: Youden's J per class on exactly those scores.
  const fs::path best_file = dir / "checkpoints/best.safetensors";
  const auto meta = cxr::read_safetensors(best_file.string()).metadata;
  ASSERT_TRUE(meta.count("thresholds"));
  const json thresholds = json::parse(meta.at("thresholds"));
  ASSERT_EQ(thresholds.size(), preds["classes"].size());
  for (size_t c = 0; c < thresholds.size(); ++c) {
    std::vector<double> scores;
    std::vector<bool> positive;
    for (size_t i = 0; i < preds["scores"].size(); ++i) {
      scores.push_back(preds["scores"][i][c].get<double>());
      positive.push_back(preds["targets"][i][c].get<double>() > 0.5);
    }
    EXPECT_EQ(thresholds[c].get<double>(), cxr::choose_threshold(scores, positive).threshold) << c;
  }

  // --calibrate: a new best.safetensors with "temperature"; the step directory's file unchanged.
  fs::path linked;
  for (const auto& e : fs::recursive_directory_iterator(dir / "checkpoints"))
    if (e.path().filename() == "model.safetensors" && fs::equivalent(e.path(), best_file)) linked = e.path();
  ASSERT_FALSE(linked.empty());
  const std::string linked_before = slurp(linked);
  r = run("eval --calibrate --checkpoint " + best_file.string() + " --data " + (root_ / "data/test").string() +
              " --out " + (root_ / "calibrated/metrics.json").string() + " --bootstrap 0",
          root_ / "calibrate.log");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("validation NLL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ECE"), std::string::npos) << r.output;
  EXPECT_EQ(slurp(linked), linked_before);
  EXPECT_FALSE(fs::equivalent(linked, best_file));
  const auto calibrated = cxr::read_safetensors(best_file.string()).metadata;
  ASSERT_TRUE(calibrated.count("temperature"));
  const double t = std::stod(calibrated.at("temperature"));
  EXPECT_GT(t, 0);
  const json cm = json::parse(slurp(root_ / "calibrated/metrics.json"));
  EXPECT_EQ(cm["temperature"].get<double>(), t);
  // Calibrated scores are the uncalibrated logits over T: log(p1/p0) scales by 1/T for each sample.
  const auto rows = [](const std::string& csv) {
    std::vector<std::pair<double, double>> out;
    std::istringstream s(csv);
    std::string line;
    std::getline(s, line);
    while (std::getline(s, line)) {
      std::vector<std::string> f;
      std::string field;
      for (std::istringstream ls(line); std::getline(ls, field, ',');) f.push_back(field.substr(1, field.size() - 2));
      out.emplace_back(std::stod(f[f.size() - 2]), std::stod(f[f.size() - 1]));
    }
    return out;
  };
  const auto before = rows(slurp(dir / "eval/predictions.csv")), after = rows(slurp(root_ / "calibrated/predictions.csv"));
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_NEAR(std::log(after[i].second / after[i].first), std::log(before[i].second / before[i].first) / t,
                1e-4 * (1 + std::abs(std::log(before[i].second / before[i].first))))
        << i;
}

}  // namespace
