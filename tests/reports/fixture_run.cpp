#include "tests/reports/fixture_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <vector>

namespace cxr::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kStages{"conv1", "layer1", "layer2", "layer3", "layer4", "fc"};

// Removes this process's fixture root after the last test; CXR_KEEP_REPORT_FIXTURES keeps it
// (the pages are then there to open).
class RemoveFixtures : public ::testing::Environment {
 public:
  void TearDown() override {
    if (std::getenv("CXR_KEEP_REPORT_FIXTURES")) {
      std::printf("report fixtures kept in %s\n", fixture_root().c_str());
      return;
    }
    std::error_code ignored;
    fs::remove_all(fixture_root(), ignored);
  }
};
[[maybe_unused]] ::testing::Environment* const kRemoveFixtures = ::testing::AddGlobalTestEnvironment(new RemoveFixtures);

}  // namespace

fs::path fixture_root() {
  const fs::path root = fs::temp_directory_path() / ("cxr_report_test_" + std::to_string(getpid()));
  fs::create_directories(root);
  return root;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path make_run(const FixtureOptions& o) {
  const fs::path dir = fixture_root() / o.name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mt19937 rng(o.seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  const double base_lr = 3e-4, decay = o.layer_decay;
  std::ofstream(dir / "recipe.yaml")
      << (o.recipe_text.empty() ? std::string("model:\n  arch: resnet18\n  weights: ") +
                                      (o.pretrained ? "torchvision" : "null") +
                                      "\n  num_classes: 2\ndata:\n  train: data/train\n  val: data/val\n"
                                      "optimizer:\n  name: adamw\n  lr: 3.0e-4\n  layer_decay: " + std::to_string(o.layer_decay) + "\n"
                                      "schedule:\n  name: cosine\n  warmup_steps: 20\n"
                                : o.recipe_text);
  // First-batch gradient norm per stage: pretrained grows steeply towards the head.
  const std::vector<double> g0 = o.pretrained ? std::vector<double>{0.021, 0.048, 0.093, 0.18, 0.42, 1.35}
                                              : std::vector<double>{0.95, 0.71, 0.62, 0.55, 0.61, 0.83};
  // Validation scores, drawn first so that the epoch records carry their confusion matrix.
  json labels = json::array(), scores = json::array();
  for (int64_t i = 0; i < o.val_images; ++i) {
    const int label = static_cast<int>(i % 2);
    const double z = (label ? 1.0 : -1.0) * (o.pretrained ? 1.9 : 1.2) + 1.2 * noise(rng);
    const double p = 1 / (1 + std::exp(-z));
    labels.push_back(label);
    scores.push_back({1 - p, p});
  }
  std::vector<std::vector<int64_t>> confusion{{0, 0}, {0, 0}};
  for (size_t i = 0; i < labels.size(); ++i)
    ++confusion[labels[i].get<size_t>()][scores[i][1].get<double>() >= 0.5 ? 1 : 0];
  const double quality = o.pretrained ? 1.0 : 0.7;  // fresh weights learn slower
  std::ofstream m(dir / "metrics.jsonl");
  std::vector<double> epoch_sum(kStages.size(), 0), epoch_last(kStages.size(), 0);
  double loss_sum = 0;
  int64_t in_epoch = 0;
  for (int64_t s = 0; s < o.steps; ++s) {
    const double t = static_cast<double>(s) / static_cast<double>(o.steps);
    const double warm = std::min(1.0, static_cast<double>(s + 1) / 20.0);
    const double sched = warm * 0.5 * (1 + std::cos(M_PI * t));
    json lr, g;
    double total = 0;
    for (size_t k = 0; k < kStages.size(); ++k) {
      const bool frozen = o.freeze_conv1 && k == 0;
      lr[kStages[k]] = frozen ? 0.0 : base_lr * sched * std::pow(decay, 5.0 - static_cast<double>(k));
      double v = g0[k] * (0.35 + 0.65 * std::exp(-t / 0.3)) * std::exp(0.15 * noise(rng));
      if (frozen) v = 0.0;
      if (s == o.spike_step && k == 4) v *= 40;
      g[kStages[k]] = v;
      epoch_sum[k] += v;
      epoch_last[k] = v;
      total += v * v;
    }
    g["total"] = std::sqrt(total);
    if (s == o.nan_step) g["layer2"] = nullptr, g["total"] = nullptr;
    const double loss = std::max(0.02, 0.22 / quality + 0.47 * std::exp(-t / (0.25 / quality)) + 0.06 * noise(rng));
    loss_sum += loss;
    ++in_epoch;
    const int64_t epoch = s / o.steps_per_epoch;
    m << json({{"kind", "step"}, {"epoch", epoch}, {"step", s}, {"loss", loss}, {"lr", lr}, {"grad_norm", g},
               {"images_per_s", 41.5 + noise(rng)}, {"data_wait_s", 0.002}, {"future_key", "ignored"}})
             .dump()
      << "\n";
    if ((s + 1) % o.steps_per_epoch == 0 || s + 1 == o.steps) {
      json mean, last;
      for (size_t k = 0; k < kStages.size(); ++k)
        mean[kStages[k]] = epoch_sum[k] / static_cast<double>(in_epoch), last[kStages[k]] = epoch_last[k];
      const double progress = static_cast<double>(s + 1) / static_cast<double>(o.steps);
      m << json({{"kind", "epoch"}, {"epoch", epoch}, {"train_loss", loss_sum / static_cast<double>(in_epoch)},
                 {"val_loss", o.diverge_epoch >= 0 && epoch >= o.diverge_epoch ? 2.3e26
                                                                              : 0.26 / quality + 0.4 * std::exp(-progress / 0.3)},
                 {"val_accuracy", o.chance_epoch >= 0 && epoch >= o.chance_epoch ? 0.5 : 0.7 + 0.18 * progress * quality}, {"val_auroc", 0.76 + 0.17 * progress * quality},
                 {"grad_norm_mean", mean}, {"grad_norm_last", last}, {"val_confusion", confusion}})
               .dump()
        << "\n";
      std::fill(epoch_sum.begin(), epoch_sum.end(), 0.0);
      loss_sum = 0;
      in_epoch = 0;
    }
  }
  // Weight change: pretrained conv1 0.34 % … fc 38.67 %; fresh stages all move a lot.
  const std::vector<double> wc = o.pretrained ? std::vector<double>{0.0034, 0.0091, 0.021, 0.053, 0.124, 0.3867}
                                              : std::vector<double>{0.31, 0.24, 0.22, 0.21, 0.26, 0.58};
  json change;
  for (size_t k = 0; k < kStages.size(); ++k) change[kStages[k]] = o.freeze_conv1 && k == 0 ? 0.0 : wc[k];
  std::ofstream(dir / "weight_change.json") << change.dump(2);
  std::ofstream(dir / "val_predictions.json")
      << json({{"epoch", (o.steps - 1) / o.steps_per_epoch}, {"classes", {"NORMAL", "PNEUMONIA"}},
               {"ids", {o.canary.empty() ? "x.png" : o.canary}}, {"labels", labels}, {"scores", scores}})
             .dump();
  if (o.write_info) {
    json info = {{"cxrtune_version", "0.1.0"}, {"backend", "cpu (oneDNN)"}, {"isa_or_gpu", "AVX-512"},
                 {"threads", 2}, {"arch", "resnet18"}, {"weights", o.pretrained ? "torchvision ImageNet" : "fresh (Kaiming)"},
                 {"classes", {"NORMAL", "PNEUMONIA"}}, {"train_counts", {640, 640}}, {"val_counts", {80, 80}}};
    if (!o.canary.empty()) info["patient_name"] = o.canary, info["data_root"] = "/data/" + o.canary;
    std::ofstream(dir / "run_info.json") << info.dump(2);
  }
  return dir;
}

}  // namespace cxr::test
