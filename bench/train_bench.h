// The training-step benchmark behind `cxrtune bench` (docs/cli.md "bench"): a ResNet
// training step (forward, softmax cross-entropy, backward, Adam) and an inference forward, timed
// after warm-up; the median over measured steps is reported.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/layer_profile.h"
#include "engine/plan_budget.h"

namespace cxr {

struct BenchConfig {
  std::string arch = "resnet50";
  int64_t batch = 32;
  int64_t size = 224;
  std::string backend = "cpu";
  std::string dtype = "f32";
  int steps = 10;   // measured steps
  int warmup = 3;   // untimed steps first
  int threads = 0;  // 0 = all cores
  int64_t num_classes = 2;
  bool inference = true;  // also time eval-mode forward
  bool profile = false;   // time every layer during the measured steps
  std::string conv_algorithm = "direct";  // direct | winograd (train.conv_algorithm)
  bool training_fusions = true;  // Network::set_training_fusions (off: to measure what they buy)
  // Activation checkpointing: none | all | auto (needs memory_limit_gib) | stage names, comma-separated.
  std::string checkpointing = "none";
  double memory_limit_gib = 0;  // 0: none
};

// Where the training step's host memory goes, in MiB (CPU backends; zero elsewhere).
struct MemoryBreakdown {
  double parameters = 0;    // values and gradients
  double optimizer = 0;     // Adam's two moments
  double input = 0, kept_activations = 0, arena = 0;  // the network's memory plan
  double shared_scratch = 0;  // the backend's shared scratchpads
  double layer_buffers = 0; // what layers hold themselves (kernel-layout weights, masks, ...)
  double host_tensors = 0;  // all of the above
};

struct BenchResult {
  std::string arch, backend, dtype, isa;
  int64_t batch = 0, size = 0;
  double train_images_per_s = 0, infer_images_per_s = 0;
  double train_step_s = 0, infer_step_s = 0;  // medians
  double peak_rss_mib = 0;
  double forward_gflop_per_image = 0;  // forward_flops of the network over the batch, per image
  MemoryBreakdown memory;
  std::vector<std::string> checkpointed;  // the stages recomputed in backward
  PeakEstimate estimate;                  // the planner's peak estimate for them (engine/plan_budget.h)
  double first_loss = 0, last_loss = 0;
  LayerProfile train_profile, infer_profile;  // filled with BenchConfig::profile
};

// `progress` is called after each step with (phase, step, total) so the CLI can draw a bar.
BenchResult run_bench(const BenchConfig& config,
                      const std::function<void(const std::string&, int, int)>& progress = {});

}  // namespace cxr
