// Resumable checkpoints (docs/checkpoints.md). A checkpoint is a pair of safetensors files:
// the model (parameters and buffers under torchvision names, with a __metadata__ entry: format
// version, cxrtune version, arch, recipe, step, epoch, data position — all strings) and the
// optimizer state ("<param>.exp_avg", ...). Both carry the step and a checkpoint id shared by
// the pair only, so a model is never resumed with another checkpoint's optimizer state.
//
// A run's checkpoints/ directory (CheckpointStore):
//   step-<step>-<id>/model.safetensors, optim.safetensors   one complete checkpoint each
//   last.safetensors, best.safetensors                     the model file of the newest and of the
//                                                          best checkpoint (a hard link, or a copy)
//   init.safetensors                                       the weights before the first step
// A save writes the pair into step-<step>-<id>.tmp.<pid>/, fsyncs it, renames the directory to
// its final name, then links its model file to last.tmp.<pid> and renames that onto
// last.safetensors: that rename is the commit. A kill or I/O error at any moment leaves
// last.safetensors naming a complete pair. The newest two checkpoints are kept, so that a damaged
// newest one can fall back to the one before it.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/file_ops.h"
#include "io/weights/state_dict.h"

namespace cxr {

inline constexpr const char* kCheckpointFormat = "1";

struct Checkpoint {
  StateDict model;
  StateDict optimizer;
  std::map<std::string, std::string> metadata;  // "format", "arch", "step", "checkpoint_id", ...
};

// A standalone pair at `path` (CKPT.safetensors + CKPT.optim.safetensors), each written
// atomically; for tools and tests. Runs use CheckpointStore.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Reads a model file (a run's last.safetensors, best.safetensors or a standalone pair's model),
// and the standalone pair's optimizer file when it exists beside it. `expected_arch` empty: any.
// UsageError on a format or architecture mismatch.
Checkpoint load_checkpoint(const std::string& path, const std::string& expected_arch);

std::string optimizer_path(const std::string& checkpoint_path);

class CheckpointStore {
 public:
  // `dir` is RUN_DIR/checkpoints (it must exist). Every file operation goes through `ops`.
  CheckpointStore(std::string dir, FileOps& ops);

  // Writes `c` as a new checkpoint (a fresh id; c.metadata must hold "step") and points
  // NAME.safetensors at it; "last" also prunes all but the newest two. A save with the same
  // metadata as the one before it (best, then last, of one position) reuses that checkpoint.
  // RuntimeFailure on an I/O error, saying which checkpoint is still intact.
  void save(const std::string& name, Checkpoint c);

  // Removes what killed writers left: *.tmp.<pid> files and directories, checkpoint directories
  // that were never completed. Call with the run directory locked.
  void remove_debris();

  // The checkpoint to resume from: last.safetensors with its own optimizer state; if that pair
  // is damaged or mismatched, the newest complete one before it (and last.safetensors is pointed
  // at it). nullopt: none is complete (the run restarts from init.safetensors). Each fallback is
  // described in `notes`. UsageError for another format or architecture.
  std::optional<Checkpoint> load_for_resume(const std::string& expected_arch, std::vector<std::string>& notes);

  // "checkpoints/last.safetensors (step 6)", or empty when this run has none yet.
  std::string describe_last() const;

 private:
  std::optional<Checkpoint> load_pair(const std::string& model_path, const std::string& optim_path,
                                      const std::string& expected_arch, std::string& why) const;
  void point(const std::string& name, const std::string& checkpoint_dir);
  void prune();

  std::string dir_;
  FileOps& ops_;
  std::string last_, previous_;  // directory names of the newest two complete checkpoints
  int64_t last_step_ = -1;
  std::string saved_dir_;        // the checkpoint of the latest save, and its metadata
  std::map<std::string, std::string> saved_metadata_;
};

}  // namespace cxr
