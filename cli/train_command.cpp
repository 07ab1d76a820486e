// `cxrtune train RECIPE.yaml [--out RUN_DIR] [--set k=v ...] [--backend ...] [--resume RUN_DIR]
// [--plugin LIB.so ...]` (contracts.md).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/errors.h"
#include "cli/train_job.h"

namespace cxr::cli {

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "fine-tune a ResNet from a recipe");
  cmd->add_option("RECIPE", o->recipe_path, "recipe .yaml (not needed with --resume)");
  cmd->add_option("--out", o->out_dir, "run directory (default runs/<recipe>-<time>)");
  cmd->add_option("--set", o->overrides, "override a recipe key: key.path=value")->take_all();
  cmd->add_option("--backend", o->backend, "cpu | cuda | auto (overrides train.backend)");
  cmd->add_option("--resume", o->resume_dir,
                  "continue the run in this directory from its last checkpoint (with --out: continue a copy)");
  cmd->add_option("--plugin", o->plugins, "load layer plugins from this shared library")->take_all();
  cmd->add_flag("!--no-report", o->report, "skip report.html at the end");
  cmd->add_flag("--force", o->force, "a new run may clear a non-empty --out first");
  cmd->callback([o] {
    if (o->recipe_path.empty() && o->resume_dir.empty()) throw UsageError("train: give a RECIPE.yaml or --resume RUN_DIR");
    const std::string dir = run_training(*o);
    std::printf("run directory: %s\n", dir.c_str());
    if (o->report) std::printf("report: %s/report.html\n", dir.c_str());
  });
}

}  // namespace cxr::cli
