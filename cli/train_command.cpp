// `cxrtune train RECIPE.yaml [--out RUN_DIR] [--set k=v ...] [--backend ...] [--resume RUN_DIR]
// [--plugin LIB.so ...] [--force] [--no-report]`: the training job (job/train_job.h), then, when
// the recipe gives data.test (or its official layout names a test split), the best checkpoint
// evaluated on it into RUN_DIR/eval/ exactly as `cxrtune eval` does, then the report. In a
// data-parallel run every rank scores its slice of the test set and rank 0 writes the result.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/eval_run.h"
#include "cli/train_printer.h"
#include "core/errors.h"
#include "job/every_rank.h"
#include "job/rank_checkpoint.h"
#include "job/train_job.h"
#include "plugins/mpi/world.h"
#include "reports/report.h"

namespace cxr::cli {
namespace {

struct TrainCommandOptions {
  TrainOptions job;
  bool report = true;
};

// data.test, or the official layout's test split: the best checkpoint scored on it into
// RUN_DIR/eval/ (cli/eval_run.h). Every rank of a data-parallel run takes part: what rank 0
// knows (is there a test split, a best checkpoint) is broadcast, the checkpoint's bytes too
// (job/rank_checkpoint.h), each rank scores its slice and rank 0 writes the gathered whole.
void evaluate_test_split(const TrainOutcome& out, const TrainCommandOptions& o) {
  Communicator& world = world_communicator();
  run_on_every_rank(world, [&] {
    int64_t known[2] = {0, 0};  // has a test split, has a best checkpoint
    if (out.primary) known[0] = recipe_has_test_split(out.recipe), known[1] = out.best.has_value();
    world.broadcast(known, sizeof known, 0);
    if (!known[0]) return;
    const std::string test = out.recipe.data.test.value_or("");  // empty: the layout's test split
    if (!known[1]) {
      if (out.primary)
        std::fprintf(stderr, "data.test: no best checkpoint was saved (no validation AUROC was defined), not evaluated\n");
      return;
    }
    if (out.primary)
      std::fprintf(stderr, "data.test: evaluating %s on %s%s\n", out.best->c_str(),
                   test.empty() ? "the layout's test split" : test.c_str(),
                   world.size() > 1 ? (", sharded over " + std::to_string(world.size()) + " ranks").c_str() : "");
    const RankCheckpoint best(world, out.best.value_or(""));
    EvalOptions e;
    e.job.checkpoint = best.path();
    e.job.data = test;
    e.job.backend = out.recipe.train.backend;
    e.job.plugins = o.job.plugins;
    e.job.world = &world;
    e.out = (std::filesystem::path(out.run_dir) / "eval" / "metrics.json").string();
    run_eval(e);
  });
}

void run_train(const TrainCommandOptions& o) {
  if (o.job.recipe_path.empty() && o.job.resume_dir.empty())
    throw UsageError("train: give a RECIPE.yaml or --resume RUN_DIR");
  TrainPrinter printer;
  const TrainOutcome out = run_training(o.job, printer);
  evaluate_test_split(out, o);
  if (!out.primary) return;  // another rank of a data-parallel run: rank 0 reports
  const std::filesystem::path dir(out.run_dir);
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
