// Scoring a checkpoint on a data set, shared by `cxrtune eval`, `cxrtune compare` and the test
// evaluation at the end of `train`: the checkpoint is loaded by load_checkpoint_model (its recipe
// rebuilds the network, backend and precision overridable) and every image of DATA (a
// folder-per-class set, or a manifest's `split: test` rows) is scored once in loader order. When
// the checkpoint carries a `temperature` (eval --calibrate), logits are divided by it before the
// softmax/sigmoid and the loss. Also the per-sample predictions of a run's last validation
// epoch (val_predictions.json), which eval uses to choose an operating point.
// Failure modes: a missing or folder checkpoint, a checkpoint without recipe, classes that
// differ between checkpoint and data, a malformed val_predictions.json → UsageError naming it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/communicator.h"
#include "engine/trainer.h"
#include "job/checkpoint_model.h"

namespace cxr {

// Per-sample scores of one data set: probs[i][k] (softmax or sigmoid), targets[i][k] 0/1 (one-hot
// for single-label), ids[i] the path relative to the data root (never identifying).
struct ScoredSet {
  std::vector<std::string> classes, ids;
  bool multi_label = false;
  std::vector<std::vector<double>> probs, targets;
};

struct CheckpointEvalOptions {
  // data: a folder-per-class set, a CSV manifest (its `split: test` rows), or an official
  // layout's label file (io/dataset_layouts.h resolve_test_data, with the checkpoint recipe's
  // data.labels / uncertain / views, and its data.images when the recipe uses that layout);
  // empty: the checkpoint recipe's own test split (data.test, a manifest's test rows, the
  // layout's official test split), a UsageError when it has none.
  std::string checkpoint, data, backend, precision;
  std::vector<std::string> plugins;
  // A data-parallel run's ranks (issue #20), every one calling this together with the same
  // options: rank r decodes and scores only its slice of every batch (io/loader.h), and every
  // rank gets all samples back, gathered in data-set order, so each is counted exactly once.
  // Null (or one rank): this process scores everything.
  Communicator* world = nullptr;
};

struct CheckpointEval {
  EvalResult result;  // loss, point metrics, per-sample probs/targets/ids
  ScoredSet set;      // the same samples with the class names
  std::optional<double> temperature;  // the checkpoint's, applied to the scores above
  EvalRecipe eval;                    // the checkpoint's recipe's eval section (eval.subgroups)
  Dataset data;                       // what was scored, with a layout's subgroup attributes
  std::string manifest;               // the CSV manifest it came from (its columns: subgroup keys); else empty
};

// Whether evaluate_checkpoint with an empty `data` has something to score for this recipe: a
// data.test folder, or an official layout whose label files name a test split.
bool recipe_has_test_split(const Recipe& recipe);

CheckpointEval evaluate_checkpoint(const CheckpointEvalOptions& o);

// Scores written at temperature 1 (a run's val_predictions.json) moved to temperature T, exactly
// as the logits would have been: softmax(log p / T) per row (single-label), σ(logit(p) / T) per
// label (multi-label). Probabilities are clamped away from 0 and 1 by 1e-300 first.
void apply_temperature_to_scores(ScoredSet& set, double temperature);

// RUN_DIR/val_predictions.json of the run that holds `checkpoint` (RUN_DIR/checkpoints/X or
// RUN_DIR/checkpoints/SUBFOLDER/X), or
// nullopt when there is none. Its classes must equal `classes`.
std::optional<ScoredSet> read_run_val_predictions(const std::string& checkpoint,
                                                  const std::vector<std::string>& classes);

}  // namespace cxr
