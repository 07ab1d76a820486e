// `cxrtune predict` against PyTorch (torch_predict_oracle.py, float64 torchvision on the same
// checkpoint and the same images, preprocessed by PIL independently): probabilities within 1e-5
// (ResNet-18 cross-entropy, ResNet-50 BCE with a temperature), the .cam.npy maps within 1e-4 of
// the largest value of PyTorch's hooks implementation on layer4, for the predicted class and for
// a named one, on random weights and on weights after a few training steps; the reference and
// oneDNN backends give the same CSV and maps. Skipped without torch.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "predict_fixtures.h"

namespace cxr::test {
namespace {

using nlohmann::json;

struct Case {
  fs::path dir, checkpoint;
  std::vector<fs::path> images;
  std::vector<std::string> classes;
};

Case make_case(const std::string& tag, const CheckpointSpec& spec, int count) {
  Case c;
  c.dir = fresh_dir(tag);
  c.checkpoint = c.dir / "model.safetensors";
  c.classes = spec.classes;
  write_test_checkpoint(c.checkpoint, spec);
  for (int i = 0; i < count; ++i) {
    c.images.push_back(c.dir / "images" / (i % 2 ? "b" : "a") / ("img" + std::to_string(i) + ".png"));
    write_test_png(c.images.back(), spec.image_size, static_cast<uint64_t>(i) + 100 * spec.seed);
  }
  return c;
}

json oracle(const fs::path& ckpt, const std::string& arch, const std::string& loss, int64_t size, double temperature,
            int cls, const std::vector<fs::path>& images, const fs::path& out) {
  std::string cmd = std::string(CXRTUNE_PYTHON) + " " + CXRTUNE_SOURCE_DIR + "/tests/predict/torch_predict_oracle.py " +
                    ckpt.string() + " " + arch + " " + loss + " " + std::to_string(size) + " " + std::to_string(temperature) +
                    " " + std::to_string(cls) + " " + out.string();
  for (const fs::path& p : images) cmd += " " + p.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  return json::parse(in);
}

struct Predicted {
  std::vector<std::vector<std::string>> rows;
  std::map<std::string, std::vector<float>> cams;  // by relative path
  std::vector<int64_t> cam_shape;
};

Predicted predict(const Case& c, const std::string& flags, const std::string& tag) {
  const fs::path out = c.dir / (tag + ".csv"), cams = c.dir / ("cams_" + tag);
  const CliResult r = run_cxrtune("predict --checkpoint " + c.checkpoint.string() + " " + (c.dir / "images").string() +
                                  " --out " + out.string() + " --cam " + cams.string() + " " + flags);
  EXPECT_EQ(r.code, 0) << r.output;
  Predicted p;
  p.rows = read_csv_file(out);
  for (size_t i = 1; i < p.rows.size(); ++i) p.cams[p.rows[i][0]] = read_npy_f32(cams / (p.rows[i][0] + ".cam.npy"), &p.cam_shape);
  return p;
}

// Worst |ours − torch| over the largest |torch| of the maps; and whether torch's were non-zero.
double cam_error(const Predicted& p, const json& want, const Case& c, bool& nonzero) {
  double worst = 0, scale = 0;
  for (const auto& w : want)
    for (double v : w["cam"]) scale = std::max(scale, std::abs(v));
  nonzero = scale > 0;
  for (const auto& w : want) {
    const std::string rel = fs::path(w["path"].get<std::string>()).lexically_relative(c.dir / "images").string();
    const auto& mine = p.cams.at(rel);
    const auto& theirs = w["cam"];
    EXPECT_EQ(mine.size(), theirs.size()) << rel;
    for (size_t i = 0; i < mine.size() && i < theirs.size(); ++i)
      worst = std::max(worst, std::abs(mine[i] - theirs[i].get<double>()));
  }
  return worst / std::max(scale, 1e-30);
}

double prob_error(const Predicted& p, const json& want, const Case& c) {
  double worst = 0;
  for (const auto& w : want) {
    const std::string rel = fs::path(w["path"].get<std::string>()).lexically_relative(c.dir / "images").string();
    bool found = false;
    for (size_t i = 1; i < p.rows.size(); ++i) {
      if (p.rows[i][0] != rel) continue;
      found = true;
      for (size_t k = 0; k < c.classes.size(); ++k)
        worst = std::max(worst, std::abs(std::stod(p.rows[i][1 + k]) - w["probs"][k].get<double>()));
    }
    EXPECT_TRUE(found) << rel;
  }
  return worst;
}

class PredictOracle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_torch()) GTEST_SKIP() << "skipped: " << CXRTUNE_PYTHON << " cannot import torch, torchvision, numpy, PIL";
  }
};

TEST_F(PredictOracle, Resnet18CrossEntropyProbabilitiesAndGradCam) {
  CheckpointSpec spec;
  spec.image_size = 96;  // layer4 3 × 3
  const Case c = make_case("r18ce", spec, 5);
  const Predicted p = predict(c, "--batch 2", "top");
  ASSERT_EQ(p.rows.size(), 6u);
  EXPECT_EQ(p.cam_shape, (std::vector<int64_t>{3, 3}));
  const json want = oracle(c.checkpoint, "resnet18", "ce", 96, 1.0, -1, c.images, c.dir / "want.json");
  const double pe = prob_error(p, want, c);
  bool nonzero = false;
  const double ce = cam_error(p, want, c, nonzero);
  std::printf("[resnet18 ce] probabilities %.2e, grad-cam (predicted) %.2e relative\n", pe, ce);
  EXPECT_LT(pe, 1e-5);
  EXPECT_LT(ce, 1e-4);
  EXPECT_TRUE(nonzero) << "every map was zero: the comparison says nothing";
  for (size_t i = 1; i < p.rows.size(); ++i) {  // predicted = the argmax
    const bool second = std::stod(p.rows[i][2]) > std::stod(p.rows[i][1]);
    EXPECT_EQ(p.rows[i][3], second ? "PNEUMONIA" : "NORMAL");
  }
  // A named class: the one predicted less often, so that most maps explain a class not chosen.
  int pneumonia = 0;
  for (size_t i = 1; i < p.rows.size(); ++i) pneumonia += p.rows[i][3] == "PNEUMONIA";
  const int other = pneumonia * 2 < static_cast<int>(p.rows.size()) - 1 ? 1 : 0;
  const Predicted named = predict(c, "--cam-class " + c.classes[static_cast<size_t>(other)], "named");
  const json want_named = oracle(c.checkpoint, "resnet18", "ce", 96, 1.0, other, c.images, c.dir / "want_named.json");
  const double cn = cam_error(named, want_named, c, nonzero);
  std::printf("[resnet18 ce] grad-cam (%s) %.2e relative\n", c.classes[static_cast<size_t>(other)].c_str(), cn);
  EXPECT_LT(cn, 1e-4);
  bool differs = false;
  for (const auto& [rel, map] : named.cams) differs |= map != p.cams.at(rel);
  EXPECT_TRUE(differs) << "the named class's maps equal the predicted class's";
  EXPECT_TRUE(nonzero);
}

TEST_F(PredictOracle, Resnet50BceWithTemperatureAndThresholds) {
  CheckpointSpec spec;
  spec.arch = "resnet50";
  spec.classes = {"Effusion", "Mass", "Nodule"};
  spec.loss = "bce";
  spec.image_size = 64;
  spec.seed = 2;
  spec.extra_metadata = {{"temperature", "1.7"}, {"thresholds", "[0.3, 0.5, 0.7]"}};
  const Case c = make_case("r50bce", spec, 4);
  const Predicted p = predict(c, "--cam-class Mass", "mass");
  ASSERT_EQ(p.rows.size(), 5u);
  EXPECT_EQ(p.rows[0], (std::vector<std::string>{"path", "Effusion", "Mass", "Nodule", "predicted"}));
  const json want = oracle(c.checkpoint, "resnet50", "bce", 64, 1.7, 1, c.images, c.dir / "want.json");
  const double pe = prob_error(p, want, c);
  bool nonzero = false;
  const double ce = cam_error(p, want, c, nonzero);
  std::printf("[resnet50 bce] probabilities %.2e, grad-cam (Mass) %.2e relative\n", pe, ce);
  EXPECT_LT(pe, 1e-5);
  EXPECT_LT(ce, 1e-4);
  for (size_t i = 1; i < p.rows.size(); ++i) {  // the checkpoint's thresholds
    std::string names;
    const double t[3] = {0.3, 0.5, 0.7};
    for (size_t k = 0; k < 3; ++k)
      if (std::stod(p.rows[i][1 + k]) >= t[k]) names += (names.empty() ? "" : ";") + spec.classes[k];
    EXPECT_EQ(p.rows[i][4], names);
  }
  const Predicted top = predict(c, "--threshold 0.5", "top");
  const json want_top = oracle(c.checkpoint, "resnet50", "bce", 64, 1.7, -1, c.images, c.dir / "want_top.json");
  const double ct = cam_error(top, want_top, c, nonzero);
  std::printf("[resnet50 bce] grad-cam (top label) %.2e relative\n", ct);
  EXPECT_LT(ct, 1e-4);
  EXPECT_TRUE(nonzero);
}

TEST_F(PredictOracle, BrieflyTrainedWeights) {
  const fs::path dir = fresh_dir("trained");
  ASSERT_EQ(run_cxrtune("demo-data " + (dir / "data").string() + " --count 40 --size 72 --seed 5").code, 0);
  std::ofstream(dir / "r.yaml") << "model: {arch: resnet18, num_classes: 2}\n"
                                   "data: {train: " << (dir / "data/train").string() << ", val: " << (dir / "data/val").string()
                                << ", image_size: 96}\n"
                                   "optimizer: {lr: 0.001}\n"
                                   "train: {epochs: 1, max_steps: 5, batch_size: 4, backend: cpu, threads: 2}\n";
  const CliResult t = run_cxrtune("train " + (dir / "r.yaml").string() + " --out " + (dir / "run").string() + " --no-report");
  ASSERT_EQ(t.code, 0) << t.output;
  Case c;
  c.dir = dir;
  c.checkpoint = dir / "run";  // RUN_DIR means its best checkpoint
  c.classes = {"NORMAL", "PNEUMONIA"};
  for (int i = 0; i < 4; ++i) {
    c.images.push_back(dir / "images" / ("x" + std::to_string(i) + ".png"));
    write_test_png(c.images.back(), 96, static_cast<uint64_t>(i) + 40);
  }
  const Predicted p = predict(c, "", "trained");
  const json want = oracle(dir / "run/checkpoints/best.safetensors", "resnet18", "ce", 96, 1.0, -1, c.images, dir / "want.json");
  bool nonzero = false;
  const double pe = prob_error(p, want, c), ce = cam_error(p, want, c, nonzero);
  std::printf("[trained resnet18] probabilities %.2e, grad-cam %.2e relative\n", pe, ce);
  EXPECT_LT(pe, 1e-5);
  EXPECT_LT(ce, 1e-4);
  EXPECT_TRUE(nonzero);
}

TEST_F(PredictOracle, ReferenceAndOnednnAgree) {
  CheckpointSpec spec;
  spec.image_size = 96;
  spec.seed = 3;
  const Case c = make_case("backends", spec, 3);
  const Predicted ref = predict(c, "--backend reference", "ref");
  const Predicted dnn = predict(c, "--backend cpu", "dnn");
  ASSERT_EQ(ref.rows.size(), dnn.rows.size());
  double prob = 0, cam = 0, scale = 0;
  for (size_t i = 1; i < ref.rows.size(); ++i) {
    EXPECT_EQ(ref.rows[i][0], dnn.rows[i][0]);
    EXPECT_EQ(ref.rows[i][3], dnn.rows[i][3]);
    for (size_t k = 1; k <= 2; ++k) prob = std::max(prob, std::abs(std::stod(ref.rows[i][k]) - std::stod(dnn.rows[i][k])));
    const auto& a = ref.cams.at(ref.rows[i][0]);
    const auto& b = dnn.cams.at(ref.rows[i][0]);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      cam = std::max(cam, static_cast<double>(std::abs(a[j] - b[j])));
      scale = std::max(scale, static_cast<double>(std::abs(a[j])));
    }
  }
  std::printf("[reference vs onednn] probabilities %.2e, grad-cam %.2e relative\n", prob, cam / scale);
  EXPECT_LT(prob, 1e-5);
  EXPECT_LT(cam / scale, 1e-4);
  EXPECT_GT(scale, 0);
}

}  // namespace
}  // namespace cxr::test
