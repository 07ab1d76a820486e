// train.activation_checkpointing and train.memory_limit_gib through `cxrtune train` (issue #21),
// ResNet-18 at 32 px on the demo data:
// - the recipe errors exit 2 before a run directory exists: an unknown stage (with did you
//   mean), auto without a budget, a budget that even every stage checkpointed does not fit
//   (the message gives the estimate and what would fit);
// - a run checkpointing every stage, with train.accumulate_steps 2, trains the same bits as the
//   same run without it (step losses, last checkpoint's tensors, BN statistics included), and
//   says what it chose and its estimate; auto under a generous budget checkpoints nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/weights/safetensors.h"
#include "tests/support/cli_run.h"

namespace {

namespace fs = std::filesystem;
using cxr::test::Result;

class CheckpointingCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("cxr_ckpt_" + std::to_string(getpid()));
    fs::create_directories(root_);
    const Result r = cxr::test::run_cxrtune("demo-data " + (root_ / "data").string() + " --count 40 --size 40 --seed 5",
                                            root_ / "data.log");
    ASSERT_EQ(r.code, 0) << r.output;
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  // A run whose train block ends with `train_keys`.
  static Result train(const std::string& name, const std::string& train_keys) {
    const fs::path recipe = root_ / (name + ".yaml");
    std::ofstream(recipe) << "model: {arch: resnet18, weights: null, num_classes: 2, in_channels: 3}\n"
                          << "data: {train: " << (root_ / "data/train").string()
                          << ", val: " << (root_ / "data/val").string()
                          << ", image_size: 32, augment: none, shuffle: true, cache: memory}\n"
                          << "train: {epochs: 1, max_steps: 3, batch_size: 8, seed: 1, backend: cpu, threads: 2, "
                          << "checkpoint_every: epoch" << train_keys << "}\n"
                          << "optimizer: {name: adam, lr: 1.0e-3}\nschedule: {name: constant}\n"
                          << "loss: {name: cross_entropy}\n";
    return cxr::test::run_cxrtune("train " + recipe.string() + " --out " + (root_ / name).string() + " --no-report",
                                  root_ / (name + ".log"));
  }
  static std::vector<std::string> step_losses(const std::string& name) {
    std::vector<std::string> losses;  // as written: the same text is the same double
    std::ifstream in(root_ / name / "metrics.jsonl");
    for (std::string line; std::getline(in, line);)
      if (line.find("\"kind\":\"step\"") != std::string::npos) {
        const size_t at = line.find("\"loss\":");
        losses.push_back(line.substr(at, line.find_first_of(",}", at) - at));
      }
    return losses;
  }
  static fs::path root_;
};
fs::path CheckpointingCli::root_;

TEST_F(CheckpointingCli, UnknownStageSaysDidYouMeanBeforeAnyRunDirectory) {
  const Result r = train("unknown", ", activation_checkpointing: [layer1, layr2]");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("train.activation_checkpointing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'layer2'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(root_ / "unknown"));
}

TEST_F(CheckpointingCli, AutoWithoutABudgetExits2) {
  const Result r = train("nobudget", ", activation_checkpointing: auto");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("train.memory_limit_gib"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(root_ / "nobudget"));
}

TEST_F(CheckpointingCli, ABudgetNothingFitsExits2WithTheEstimateAndWhatWouldFit) {
  const Result r = train("small", ", activation_checkpointing: auto, memory_limit_gib: 0.01");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("too small"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("estimated peak is"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(root_ / "small"));
}

TEST_F(CheckpointingCli, EveryStageWithAccumulationTrainsTheSameBits) {
  const std::string stages = "[conv1, layer1, layer2, layer3, layer4, fc]";
  const Result plain = train("plain", ", accumulate_steps: 2");
  ASSERT_EQ(plain.code, 0) << plain.output;
  const Result all = train("all", ", accumulate_steps: 2, activation_checkpointing: " + stages);
  ASSERT_EQ(all.code, 0) << all.output;
  EXPECT_NE(all.output.find("activation checkpointing: conv1, layer1, layer2, layer3, layer4, fc; estimated peak"),
            std::string::npos)
      << all.output;
  const auto losses = step_losses("plain");
  EXPECT_EQ(losses.size(), 3u);
  EXPECT_EQ(step_losses("all"), losses);
  const cxr::StateDict a = cxr::read_safetensors((root_ / "plain/checkpoints/last.safetensors").string());
  const cxr::StateDict b = cxr::read_safetensors((root_ / "all/checkpoints/last.safetensors").string());
  size_t compared = 0;
  for (const cxr::NamedTensor& t : a.tensors) {
    const cxr::NamedTensor* u = b.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_TRUE(t.bytes == u->bytes) << t.name << " differs";
    ++compared;
  }
  EXPECT_GT(compared, 100u);
}

TEST_F(CheckpointingCli, AutoUnderAGenerousBudgetCheckpointsNothing) {
  const Result r = train("generous", ", max_steps: 1, activation_checkpointing: auto, memory_limit_gib: 64");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("activation checkpointing: none; estimated peak memory"), std::string::npos) << r.output;
}

}  // namespace
