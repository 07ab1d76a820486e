// `cxrtune eval --checkpoint CKPT [--data DATA] [--out metrics.json] [--operating-point RULE]
// [--bootstrap N] [--seed S] [--format table|json] [--subgroups KEYS] [--backend ...]`: scores a checkpoint on a
// folder-per-class data set, on the `split: test` rows of a CSV manifest, on an official
// layout's label file (its test split, else all its images; the samples carry the layout's
// subgroup attributes), or without --data on the checkpoint recipe's own test split. Writes metrics.json
// (the names of metrics.jsonl's epoch records, and the statistics of eval_statistics.h) and
// predictions.csv beside it (RFC 4180, every field quoted: paths relative to the data root, the
// true class or, multi-label, the true labels joined by ';' (and, when some label is masked, an
// `ignored` column with the masked labels joined by ';'), the class probabilities to 17
// significant digits so that `compare` reads back what eval scored; nothing identifying).
// stdout: the table of eval_table.h, or with --format json the whole metrics.json.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "job/checkpoint_eval.h"
#include "cli/commands.h"
#include "cli/eval_run.h"
#include "cli/eval_statistics.h"
#include "cli/eval_subgroups.h"
#include "cli/eval_table.h"
#include "job/metrics_json.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "io/csv.h"
#include "job/calibration_job.h"

namespace cxr::cli {
namespace {

std::string predictions_csv(const ScoredSet& s) {
  // Masked (ignored) labels get their own column, so that compare reads back which samples count
  // for each label; a set without masks keeps the plain layout.
  bool masked = false;
  for (const auto& t : s.targets)
    for (double v : t) masked = masked || v < 0;
  std::vector<std::string> header{"path", s.multi_label ? "labels" : "label"};
  if (masked) header.push_back("ignored");
  for (const auto& name : s.classes) header.push_back("p_" + name);
  std::string csv = csv_row(header);
  for (size_t i = 0; i < s.probs.size(); ++i) {
    std::vector<std::string> row{i < s.ids.size() ? s.ids[i] : "", ""};
    if (masked) row.emplace_back();
    for (size_t k = 0; k < s.targets[i].size() && k < s.classes.size(); ++k) {
      if (s.targets[i][k] < 0) row[2] += (row[2].empty() ? "" : ";") + s.classes[k];
      if (s.targets[i][k] > 0.5) {
        if (s.multi_label) row[1] += (row[1].empty() ? "" : ";") + s.classes[k];
        else row[1] = s.classes[k];
      }
    }
    for (double p : s.probs[i]) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", p);
      row.push_back(buf);
    }
    csv += csv_row(row);
  }
  return csv;
}

}  // namespace

nlohmann::json run_eval(const EvalOptions& o) {
  StatsOptions stats;
  stats.operating_point = parse_operating_point(o.operating_point);  // bad input fails before scoring
  if (o.bootstrap < 0) throw UsageError("--bootstrap " + std::to_string(o.bootstrap) + ": give 0 (off) or a count");
  stats.bootstrap = o.bootstrap;
  stats.seed = o.seed;
  if (!o.subgroups.empty()) check_subgroup_keys(o.subgroups);  // a refused key fails before scoring
  if (o.calibrate) {
    const std::string ckpt = checkpoint_of(o.job.checkpoint);
    const CalibrationOutcome c = calibrate_checkpoint({ckpt, o.job.backend, o.job.precision, o.job.plugins});
    std::fprintf(stderr,
                 "calibrate: temperature %.4g fitted on %lld validation samples; validation NLL %.4f -> %.4f, "
                 "ECE %.4f -> %.4f (%s, 15 equal-width bins)%s; stored in %s\n",
                 c.temperature, static_cast<long long>(c.samples), c.nll_before, c.nll_after, c.ece_before, c.ece_after,
                 c.ece_of.c_str(), c.at_bracket_edge ? "; the minimum lies on the search bracket's edge" : "",
                 c.checkpoint.c_str());
  }
  const CheckpointEval ev = evaluate_checkpoint(o.job);
  // Another rank of a data-parallel run: its slice is scored and gathered; rank 0 writes.
  if (o.job.world && o.job.world->rank() != 0) return {};
  const ClassificationMetrics& mt = ev.result.metrics;
  const std::string checkpoint = checkpoint_of(o.job.checkpoint);  // a run directory: its best
  nlohmann::json j = {{"checkpoint", std::filesystem::path(checkpoint).filename().string()},
                      {"count", mt.count},
                      {"loss", number_json(ev.result.loss)},
                      {"accuracy", number_json(mt.accuracy)},
                      {"auroc", number_json(mt.macro_auroc)},
                      {"per_class", per_class_json(mt)},
                      {"confusion", mt.confusion},
                      {"classes", ev.set.classes}};
  if (ev.temperature) j["temperature"] = *ev.temperature;
  std::optional<ScoredSet> val = read_run_val_predictions(checkpoint, ev.set.classes);
  if (val) val->multi_label = ev.set.multi_label;
  // The run's validation scores were written uncalibrated: an operating point chosen on them must
  // be chosen on the same (calibrated) scale as the test scores.
  if (val && ev.temperature) apply_temperature_to_scores(*val, *ev.temperature);
  add_statistics(j, ev.set, val, stats);
  // The command line's keys, else the recipe's (already checked when the recipe was parsed).
  const std::vector<std::string>& subgroup_keys = o.subgroups.empty() ? ev.eval.subgroups : o.subgroups;
  if (!subgroup_keys.empty())
    j["subgroups"] = subgroups_json(ev.set, ev.data, ev.manifest, subgroup_keys,
                                    o.subgroup_min_size.value_or(ev.eval.subgroup_min_size));

  const auto out_dir = std::filesystem::path(o.out).parent_path();
  std::error_code ec;
  if (!out_dir.empty()) std::filesystem::create_directories(out_dir, ec);
  if (ec) throw UsageError("--out " + o.out + ": cannot create " + out_dir.string() + ": " + ec.message());
  write_file_atomic(o.out, j.dump(2) + "\n");
  const std::string preds = (out_dir / "predictions.csv").string();
  write_file_atomic(preds, predictions_csv(ev.set));
  if (o.format == "json") {
    std::printf("%s\n", j.dump(2).c_str());
    std::fprintf(stderr, "wrote %s and %s\n", o.out.c_str(), preds.c_str());
  } else {
    std::printf("%s\nwrote %s and %s\n", statistics_table(j).c_str(), o.out.c_str(), preds.c_str());
  }
  return j;
}

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "score a checkpoint on a data set, with confidence intervals");
  cmd->add_option("--checkpoint", o->job.checkpoint, "checkpoint .safetensors (a run's checkpoints/best.safetensors)")
      ->required();
  cmd->add_option("--data", o->job.data,
                  "folder-per-class data set, a CSV manifest (its split: test rows) or a layout's label file "
                  "(nih, chexpert, mimic-cxr-jpg, rsna-pneumonia: its test split, else all its images); "
                  "default: the checkpoint recipe's test split");
  cmd->add_option("--out", o->out, "metrics JSON")->capture_default_str();
  cmd->add_option("--operating-point", o->operating_point,
                  "threshold rule, chosen on the run's val_predictions.json: youden | sensitivity=T | specificity=T")
      ->capture_default_str();
  cmd->add_option("--bootstrap", o->bootstrap, "bootstrap resamples for percentile CIs (0: off)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "bootstrap seed")->capture_default_str();
  cmd->add_option("--format", o->format, "stdout: table | json (the whole metrics.json)")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_option("--subgroups", o->subgroups,
                  "metrics per group: sex,age,view,manufacturer or manifest columns (default: the recipe's eval.subgroups)")
      ->delimiter(',');
  cmd->add_option("--subgroup-min-size", o->subgroup_min_size,
                  "smaller subgroups are listed, not scored (default: the recipe's eval.subgroup_min_size, 30)");
  cmd->add_flag("--calibrate", o->calibrate,
               "first fit a temperature on the checkpoint recipe's validation split and store it in the checkpoint");
  cmd->add_option("--backend", o->job.backend, "cpu | cuda | auto");
  cmd->add_option("--precision", o->job.precision, "f32 | bf16 | f16 (default: the run's train.precision)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_option("--plugin", o->job.plugins, "layer plugins")->take_all();
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace cxr::cli
