// The training job (`cxrtune train`, the tests, the data-parallel launcher): recipe → data,
// model, optimizer → Trainer → run directory (docs/run-directory.md). Checkpoints carry
// everything to continue bit-identically (weights, BN statistics, optimizer state and step, data
// position, epoch sums; the data stream itself is a pure function of (train.seed, epoch, batch),
// so no RNG state exists to save); --resume continues from checkpoints/last. SIGINT/SIGTERM
// write a checkpoint and throw Interrupted (exit 130).
// Before the run directory is created everything that can be checked is: the recipe, the run
// directory (run_directory.h), the data (every listed image's header with data.on_bad_file: fail),
// the model and its weights. A failed start leaves the file system as it was.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "job/job_observer.h"
#include "recipes/recipe.h"

namespace cxr {

struct TrainOptions {
  std::string recipe_path;
  std::string out_dir;                 // empty: runs/<recipe stem>-<time>
  std::vector<std::string> overrides;  // --set
  std::string backend;                 // --backend overrides train.backend
  std::string resume_dir;              // --resume
  std::vector<std::string> plugins;    // --plugin
  bool force = false;                  // --force: a new run may replace what is in --out
};

struct TrainOutcome {
  std::string run_dir;
  Recipe recipe;                       // as run (after --resume/--set/--backend)
  std::optional<std::string> best;     // RUN/checkpoints/best.safetensors when one was saved
  std::vector<std::string> findings;   // validation health (reports/health.h), for the summary
  // False on the ranks other than 0 of a data-parallel run: they wrote nothing, and the caller
  // neither evaluates data.test nor reports (rank 0 does).
  bool primary = true;
};

// Under mpirun/srun every rank calls it (plugins/mpi/world.h); a rank failing alone ends them all
// with its exit code.
TrainOutcome run_training(const TrainOptions& options, JobObserver& observer);

}  // namespace cxr
