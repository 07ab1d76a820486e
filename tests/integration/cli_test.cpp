// cxrtune end to end through its command line, on a small synthetic set: training writes the
// run directory of docs/run-directory.md; the lr of every stage is lr·decay^distance; a frozen stage does
// not move; a run stopped and resumed gives exactly the losses of a run never stopped; eval and
// report work; bad recipes and corrupt files exit 2 naming the key/line or file; no patient
// identifier (a canary planted in a DICOM) reaches any output.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBin = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";

struct Result {
  int code;
  std::string output;
};

Result run(const std::string& args) {
  const std::string log = fs::temp_directory_path() / ("cxr_cli_" + std::to_string(getpid()) + ".log");
  const int status = std::system((kBin + " " + args + " > " + log + " 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<json> records(const fs::path& run_dir, const char* kind) {
  std::vector<json> out;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    if (j["kind"] == kind) out.push_back(j);
  }
  return out;
}

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("cxr_cli_" + std::to_string(getpid()));
    fs::create_directories(root_);
    const Result r = run("demo-data " + (root_ / "data").string() + " --count 40 --size 72 --seed 3");
    ASSERT_EQ(r.code, 0) << r.output;
    // A canary in the patient attributes of one training DICOM: it must never be printed.
    for (const auto& e : fs::directory_iterator(root_ / "data/train/PNEUMONIA"))
      if (e.path().extension() == ".dcm") {
        const std::string cmd = "dcmodify -nb -m \"(0010,0010)=<script>alert(1)</script>CANARY^Patient\" -m "
                                "\"(0010,0020)=CANARYID42\" " + e.path().string() + " > /dev/null 2>&1";
        have_canary_ = std::system(cmd.c_str()) == 0;
        break;
      }
    std::ofstream(root_ / "recipe.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " +
                                                (root_ / "data/train").string() + "\n  val: " + (root_ / "data/val").string() +
                                                "\n  image_size: 64\n  augment: standard\ntrain:\n  epochs: 2\n  batch_size: 8\n"
                                                "  backend: cpu\n  checkpoint_every: 2\n  threads: 2\noptimizer:\n  name: adamw\n"
                                                "  lr: 1.0e-3\n  layer_decay: 0.5\nschedule:\n  name: cosine\n  warmup_steps: 2\n";
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static inline fs::path root_;
  static inline bool have_canary_ = false;
};

TEST_F(Cli, TrainWritesTheRunDirectoryAndLayerDecayedRates) {
  const fs::path dir = root_ / "run_full";
  const Result r = run("train " + (root_ / "recipe.yaml").string() + " --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"recipe.yaml", "metrics.jsonl", "weight_change.json", "report.html", "checkpoints/last.safetensors",
                        "checkpoints/best.safetensors", "checkpoints/init.safetensors"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  int pairs = 0;  // checkpoints/step-<step>-<id>/{model,optim}.safetensors
  for (const auto& e : fs::directory_iterator(dir / "checkpoints"))
    pairs += e.is_directory() && fs::exists(e.path() / "model.safetensors") && fs::exists(e.path() / "optim.safetensors");
  EXPECT_GE(pairs, 1);
  const auto steps = records(dir, "step");
  ASSERT_EQ(steps.size(), 6u);  // 24 training images, batch 8, 2 epochs
  const char* stages[] = {"conv1", "layer1", "layer2", "layer3", "layer4", "fc"};
  for (const json& s : steps) {
    for (int d = 0; d < 6; ++d) {
      const double fc = s["lr"]["fc"].get<double>();
      EXPECT_NEAR(s["lr"][stages[d]].get<double>(), fc * std::pow(0.5, 5 - d), 1e-15) << stages[d];
      EXPECT_GT(s["grad_norm"][stages[d]].get<double>(), 0.0);
    }
    EXPECT_TRUE(s.contains("images_per_s") && s.contains("data_wait_s"));
  }
  const auto epochs = records(dir, "epoch");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_TRUE(epochs[1]["val_auroc"].is_number());
  EXPECT_TRUE(epochs[1]["grad_norm_mean"].contains("layer3"));
}

TEST_F(Cli, ResumedRunEqualsUninterruptedRun) {
  const fs::path a = root_ / "run_a", b = root_ / "run_b";
  const std::string recipe = (root_ / "recipe.yaml").string();
  ASSERT_EQ(run("train " + recipe + " --out " + a.string() + " --no-report").code, 0);
  const Result first = run("train " + recipe + " --out " + b.string() + " --no-report --set train.max_steps=3");
  ASSERT_EQ(first.code, 0) << first.output;
  ASSERT_EQ(records(b, "step").size(), 3u);
  const Result resumed = run("train --resume " + b.string() + " --no-report --set train.max_steps=null");
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  const auto sa = records(a, "step"), sb = records(b, "step");
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i]["step"], sb[i]["step"]);
    EXPECT_EQ(sa[i]["loss"].get<double>(), sb[i]["loss"].get<double>()) << "step " << i;  // bit-identical
  }
  EXPECT_EQ(records(a, "epoch").back()["val_loss"].get<double>(), records(b, "epoch").back()["val_loss"].get<double>());
}

TEST_F(Cli, FrozenStageDoesNotMove) {
  const fs::path dir = root_ / "run_frozen";
  const Result r = run("train " + (root_ / "recipe.yaml").string() + " --out " + dir.string() +
                       " --no-report --set train.max_steps=2 --set \"optimizer.freeze=[conv1, layer1]\"");
  ASSERT_EQ(r.code, 0) << r.output;
  const json wc = json::parse(slurp(dir / "weight_change.json"));
  EXPECT_EQ(wc["conv1"].get<double>(), 0.0);
  EXPECT_EQ(wc["layer1"].get<double>(), 0.0);
  EXPECT_GT(wc["fc"].get<double>(), 0.0);
  const auto steps = records(dir, "step");
  EXPECT_EQ(steps[0]["lr"]["conv1"].get<double>(), 0.0);
  EXPECT_EQ(steps[0]["grad_norm"]["layer1"].get<double>(), 0.0);
}

TEST_F(Cli, EvalAndReportOfSeveralRuns) {
  const fs::path dir = root_ / "run_eval";
  ASSERT_EQ(run("train " + (root_ / "recipe.yaml").string() + " --out " + dir.string() + " --set train.max_steps=2").code, 0);
  const Result e = run("eval --checkpoint " + (dir / "checkpoints/last.safetensors").string() + " --data " +
                       (root_ / "data/test").string() + " --out " + (dir / "eval/metrics.json").string());
  ASSERT_EQ(e.code, 0) << e.output;
  const json m = json::parse(slurp(dir / "eval/metrics.json"));
  EXPECT_EQ(m["count"].get<int>(), 8);
  EXPECT_TRUE(m["per_class"].contains("PNEUMONIA"));
  EXPECT_TRUE(fs::exists(dir / "eval/predictions.csv"));
  const Result rep = run("report " + dir.string() + " " + dir.string() + " -o " + (root_ / "both.html").string());
  ASSERT_EQ(rep.code, 0) << rep.output;
  EXPECT_NE(slurp(root_ / "both.html").find("<svg"), std::string::npos);
}

TEST_F(Cli, NoPatientIdentifierReachesAnyOutput) {
  if (!have_canary_) GTEST_SKIP() << "dcmodify (Debian's dcmtk) is needed to plant the canary";
  const fs::path dir = root_ / "run_canary";
  const Result r = run("train " + (root_ / "recipe.yaml").string() + " --out " + dir.string() + " --set train.max_steps=2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("CANARY"), std::string::npos);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() == ".safetensors") continue;
    const std::string text = slurp(e.path());
    EXPECT_EQ(text.find("CANARY"), std::string::npos) << e.path();
    EXPECT_EQ(text.find("<script>"), std::string::npos) << e.path();
    EXPECT_EQ(text.find("Phantom^Synthetic"), std::string::npos) << e.path();
  }
}

TEST_F(Cli, NonFiniteLossStopsWithExitThreeNamingTheStep) {
  const fs::path dir = root_ / "run_nan";
  // The largest learning rate a recipe allows, with heavy momentum, blows the weights up.
  const Result r = run("train " + (root_ / "recipe.yaml").string() + " --out " + dir.string() +
                       " --no-report --set optimizer.name=sgd --set optimizer.lr=10 --set optimizer.momentum=0.99"
                       " --set optimizer.layer_decay=1 --set schedule.name=constant --set train.epochs=40");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("non-finite"), std::string::npos) << r.output;
  EXPECT_TRUE(r.output.find("at step") != std::string::npos || r.output.find("evaluation") != std::string::npos) << r.output;
  // The steps before the failure are recorded; none after it.
  const auto steps = records(dir, "step");
  ASSERT_FALSE(steps.empty());
  for (const json& s : steps) EXPECT_TRUE(s["loss"].is_number());
}

TEST_F(Cli, InterruptWritesACheckpointExits130AndResumes) {
  const fs::path dir = root_ / "run_sigint";
  // Start a long run, wait for its first step records, interrupt it, collect the exit code.
  const std::string script = "(" + kBin + " train " + (root_ / "recipe.yaml").string() + " --out " + dir.string() +
                             " --no-report --set train.epochs=500 > " + (root_ / "sigint.log").string() +
                             " 2>&1 & pid=$!; for i in $(seq 600); do [ -s " + (dir / "metrics.jsonl").string() +
                             " ] && break; sleep 0.1; done; sleep 0.5; kill -INT $pid; wait $pid; echo $? > " +
                             (root_ / "sigint.rc").string() + ")";
  ASSERT_EQ(std::system(("bash -c '" + script + "'").c_str()), 0);
  EXPECT_EQ(std::stoi(slurp(root_ / "sigint.rc")), 130) << slurp(root_ / "sigint.log");
  EXPECT_NE(slurp(root_ / "sigint.log").find("interrupted at step"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "checkpoints/last.safetensors"));
  const Result resumed = run("train --resume " + dir.string() + " --no-report --set train.epochs=1 --set train.max_steps=null");
  EXPECT_EQ(resumed.code, 0) << resumed.output;
}

TEST_F(Cli, BadInputExitsTwoNamingTheProblem) {
  std::ofstream(root_ / "bad.yaml") << "model:\n  arch: resnet18\noptimizer:\n  lr: fast\n";
  Result r = run("train " + (root_ / "bad.yaml").string() + " --out " + (root_ / "bad_run").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("bad.yaml:4:7: optimizer.lr"), std::string::npos) << r.output;
  std::ofstream(root_ / "broken.dcm") << std::string(128, '\0') << "DICM" << std::string(40, 'x');
  r = run("inspect " + (root_ / "broken.dcm").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("broken.dcm"), std::string::npos) << r.output;
  r = run("inspect /usr/lib/python3/dist-packages/pydicom/data/test_files/SC_rgb.dcm");
  if (fs::exists("/usr/lib/python3/dist-packages/pydicom/data/test_files/SC_rgb.dcm")) {
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("colour"), std::string::npos) << r.output;
  }
  r = run("bench --dtype f64");
  EXPECT_EQ(r.code, 2);
}

}  // namespace

namespace {

// The README's main job in miniature: demo data → train (recipes/demo.yaml) → eval → report;
// the synthetic consolidations must be learnable, not noise.
TEST(DemoEndToEnd, ValidationAurocRisesAboveNinety) {
  const fs::path root = fs::temp_directory_path() / ("cxr_demo_" + std::to_string(getpid()));
  ASSERT_EQ(run("demo-data " + (root / "data").string() + " --count 240 --size 192").code, 0);
  // Half the demo's images: 6 epochs (the demo's 3 are for its 480 images).
  const Result r = run("train " + std::string(CXRTUNE_SOURCE_DIR) + "/recipes/demo.yaml --out " + (root / "run").string() +
                       " --set data.train=" + (root / "data/train").string() + " --set data.val=" + (root / "data/val").string() +
                       " --set data.test=null --set train.threads=2 --set train.epochs=6");
  ASSERT_EQ(r.code, 0) << r.output;
  double best = 0;
  for (const json& e : records(root / "run", "epoch")) best = std::max(best, e["val_auroc"].get<double>());
  EXPECT_GT(best, 0.9);
  const Result e = run("eval --checkpoint " + (root / "run/checkpoints/best.safetensors").string() + " --data " +
                       (root / "data/test").string() + " --out " + (root / "eval/metrics.json").string());
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_GT(json::parse(slurp(root / "eval/metrics.json"))["auroc"].get<double>(), 0.9);
  EXPECT_TRUE(fs::exists(root / "run/report.html"));
  std::printf("demo: best val AUROC %.4f\n", best);
  fs::remove_all(root);
}

}  // namespace
