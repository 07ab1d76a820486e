// `cxrtune train RECIPE.yaml [--out RUN_DIR] [--set k=v ...] [--backend ...] [--resume RUN_DIR]
// [--plugin LIB.so ...] [--force] [--no-report]`: the training job (job/train_job.h), then, when
// the recipe gives data.test (or its official layout names a test split), the best checkpoint
// evaluated on it into RUN_DIR/eval/ exactly as `cxrtune eval` does, then the report.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/eval_run.h"
#include "cli/train_printer.h"
#include "core/errors.h"
#include "job/train_job.h"
#include "reports/report.h"

namespace cxr::cli {
namespace {

struct TrainCommandOptions {
  TrainOptions job;
  bool report = true;
};

void run_train(const TrainCommandOptions& o) {
  if (o.job.recipe_path.empty() && o.job.resume_dir.empty())
    throw UsageError("train: give a RECIPE.yaml or --resume RUN_DIR");
  TrainPrinter printer;
  const TrainOutcome out = run_training(o.job, printer);
  if (!out.primary) return;  // another rank of a data-parallel run: rank 0 evaluates and reports
  const std::filesystem::path dir(out.run_dir);
  if (recipe_has_test_split(out.recipe)) {
    if (!out.best) {
      std::fprintf(stderr, "data.test: no best checkpoint was saved (no validation AUROC was defined), not evaluated\n");
    } else {
      const std::string test = out.recipe.data.test.value_or("");  // empty: the layout's test split
      std::fprintf(stderr, "data.test: evaluating %s on %s\n", out.best->c_str(),
                   test.empty() ? "the layout's test split" : test.c_str());
      EvalOptions e;
      e.job.checkpoint = *out.best;
      e.job.data = test;
      e.job.backend = out.recipe.train.backend;
      e.job.plugins = o.job.plugins;
      e.out = (dir / "eval" / "metrics.json").string();
      run_eval(e);
    }
  }
  for (const std::string& f : out.findings) std::fprintf(stderr, "finding: %s\n", f.c_str());
  if (o.report) write_report({out.run_dir}, (dir / "report.html").string());
  std::printf("run directory: %s\n", out.run_dir.c_str());
  if (o.report) std::printf("report: %s/report.html\n", out.run_dir.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainCommandOptions>();
  auto* cmd = app.add_subcommand("train", "fine-tune a ResNet from a recipe");
  cmd->add_option("RECIPE", o->job.recipe_path, "recipe .yaml (not needed with --resume)");
  cmd->add_option("--out", o->job.out_dir, "run directory (default runs/<recipe>-<time>)");
  cmd->add_option("--set", o->job.overrides, "override a recipe key: key.path=value")->take_all();
  cmd->add_option("--backend", o->job.backend, "cpu | cuda | auto (overrides train.backend)");
  cmd->add_option("--resume", o->job.resume_dir,
                  "continue the run in this directory from its last checkpoint (with --out: continue a copy)");
  cmd->add_option("--plugin", o->job.plugins, "load layer plugins from this shared library")->take_all();
  cmd->add_flag("!--no-report", o->report, "skip report.html at the end");
  cmd->add_flag("--force", o->job.force, "a new run may clear a non-empty --out first");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace cxr::cli
