// `cxrtune train`: recipe → data, model, optimizer → Trainer → run directory (contracts.md).
// Checkpoints carry everything to continue bit-identically (weights, BN statistics, optimizer
// state and step, data position, epoch sums); --resume continues from checkpoints/last.
// SIGINT/SIGTERM write a checkpoint and exit 130.
#pragma once
#include <string>
#include <vector>

namespace cxr::cli {

struct TrainOptions {
  std::string recipe_path;
  std::string out_dir;               // empty: runs/<recipe stem>-<time>
  std::vector<std::string> overrides;  // --set
  std::string backend;               // --backend overrides train.backend
  std::string resume_dir;            // --resume
  std::vector<std::string> plugins;  // --plugin
  bool report = true;
  bool force = false;                // --force: a new run may replace what is in --out
};

// Returns the run directory.
std::string run_training(const TrainOptions& options);

}  // namespace cxr::cli
