// What `train` may do to a run directory, decided before anything is written: a new run goes
// into a directory that does not exist or is empty (--force clears one first); a resumed run
// continues its own recipe, of which only train.epochs and train.max_steps may change; forking
// (--resume RUN --out NEW) copies RUN to NEW and continues NEW, leaving RUN as it was.
#pragma once
#include <string>
#include <vector>

#include "recipes/recipe.h"

namespace cxr {

// True when `dir` holds anything besides the lock file.
bool run_dir_has_content(const std::string& dir);

// UsageError when `dir` exists and has content and `force` is false; when it cannot be created
// (the nearest existing parent is not a writable directory).
void check_new_run_dir(const std::string& dir, bool force);

// Removes everything in `dir` but its lock file (the caller holds the lock).
void clear_run_dir(const std::string& dir);

// The recipe a resumed run continues with: RUN_DIR/recipe.yaml, with train.epochs and
// train.max_steps taken from `recipe_path` (when given) and `overrides`. UsageError naming the
// first other difference. Each change is described in `notes`.
Recipe resumed_recipe(const std::string& run_dir, const std::string& recipe_path,
                      const std::vector<std::string>& overrides, std::vector<std::string>& notes);

// Copies the run `from` (locked for the copy) to `to`, which must not exist or be empty: every
// file but the lock, temporary files, eval/ and report.html (they describe `from`'s weights).
// The copy is made beside `to` and renamed onto it, so `to` never holds half a run.
void fork_run_dir(const std::string& from, const std::string& to);

}  // namespace cxr
