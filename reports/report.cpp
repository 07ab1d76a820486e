// Page assembly: the sections in reading order, each run's figures side by side.
#include "reports/report.h"

#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "reports/figures.h"
#include "reports/figures_gallery.h"
#include "reports/health.h"
#include "reports/html.h"
#include "reports/page_style.h"
#include "reports/paired_comparison.h"
#include "reports/run_reader.h"

namespace cxr {
namespace {

using report::RunData;

std::string run_heading(const RunData& r, size_t i) {
  return "<h3><span class='chip' style='background:" + report::run_color(i) + "'></span>" + html::escape(r.name) + "</h3>";
}

// One block per run, laid out in columns (several runs side by side).
template <typename F>
std::string per_run(const std::vector<RunData>& runs, F figure) {
  std::string out = "<div class='grid'>";
  for (size_t i = 0; i < runs.size(); ++i) out += "<section>" + run_heading(runs[i], i) + figure(runs[i]) + "</section>";
  return out + "</div>";
}

std::string health_list(const RunData& r, const std::vector<report::Finding>& findings) {
  std::string out = "<ul class='health'>";
  bool warned = false;
  for (size_t i = 0; i < findings.size() && i < 30; ++i) {
    const bool frozen = findings[i].kind == "frozen";
    warned |= !frozen;
    out += std::string("<li class='") + (frozen ? "info" : "warn") + "'>" + (frozen ? "❄ " : "⚠ ") +
           html::escape(findings[i].message) + "</li>";
  }
  if (findings.size() > 30) out += "<li class='info'>… and " + std::to_string(findings.size() - 30) + " more</li>";
  if (!warned) {
    const int head = r.stage_index("fc") >= 0 ? r.stage_index("fc") : static_cast<int>(r.stages.size()) - 1;
    const std::string head_name = head >= 0 ? r.stages[static_cast<size_t>(head)] : "the head";
    out += "<li class='ok'>✓ No NaN/Inf, no gradient spike above 10× the running median, no vanishing stage (below 10⁻³ × " +
           html::escape(head_name) + ") in " + std::to_string(r.steps.size()) + " steps.";
    size_t validated = 0;
    for (const report::EpochRow& e : r.epochs) validated += e.has_val;
    if (validated > 0) {
      out += " Validation loss stayed within 2× its minimum";
      if (std::isfinite(report::chance_accuracy(r))) out += " and accuracy did not fall back to chance";
      out += " over " + std::to_string(validated) + " validated epoch" + (validated > 1 ? "s" : "") + ".";
    }
    out += "</li>";
  }
  return out + "</ul>";
}

std::string environment(const RunData& r) {
  std::string out;
  if (r.environment.empty()) out += "<p class='note'>No run_info.json in this run directory.</p>";
  else {
    html::Table t{{"key", "value"}, {}, true, "environment (run_info.json)", "text"};
    for (const auto& [k, v] : r.environment) t.rows.push_back({k, v});
    out += html::table(t);
  }
  if (!r.counts.empty()) {
    html::Table t{{"split"}, {}, true, "images per class and split"};
    for (const auto& c : r.count_classes) t.header.push_back(c);
    t.header.push_back("total");
    for (const auto& [split, n] : r.counts) {
      std::vector<std::string> row{split};
      int64_t total = 0;
      for (size_t k = 0; k < r.count_classes.size(); ++k) {
        row.push_back(k < n.size() ? std::to_string(n[k]) : "–");
        total += k < n.size() ? n[k] : 0;
      }
      row.push_back(std::to_string(total));
      t.rows.push_back(std::move(row));
    }
    out += html::table(t);
  }
  return out + "<p class='note'>Resolved recipe (recipe.yaml, as run):</p><pre>" +
         html::escape(r.recipe.empty() ? "(no recipe.yaml)" : r.recipe) + "</pre>";
}

}  // namespace

std::string render_report(const std::vector<std::string>& run_dirs, bool images) {
  if (run_dirs.empty()) throw UsageError("report: no run directory given");
  std::vector<RunData> runs;
  for (const auto& d : run_dirs) runs.push_back(report::read_run(d));
  std::string names;
  for (const RunData& r : runs) names += (names.empty() ? "" : ", ") + r.name;

  std::string h = "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
                  "<meta name='viewport' content='width=device-width,initial-scale=1'>"
                  "<title>cxrtune report: " + html::escape(names) + "</title><style>" + report::kPageStyle +
                  "</style></head><body><main>";
  h += "<header><h1>How fine-tuning moved each stage</h1><p class='lead'>cxrtune report for " + html::escape(names) +
       ". Backpropagation gives every layer a gradient, but a pretrained network usually adapts unevenly: the "
       "early stages (generic edges and textures) move least and the new classification head most. The figures "
       "below show how far each stage of these runs moved.</p></header>";
  std::vector<std::vector<report::Finding>> health;
  for (const RunData& r : runs) health.push_back(report::run_health(r));
  h += report::summary_table(runs, health) + report::story(runs);

  int number = 0;  // sections are numbered in the order they appear (one run has one fewer)
  auto section = [&number](const std::string& title) {
    return "<h2>" + std::to_string(++number) + " · " + html::escape(title) + "</h2>";
  };
  h += section("Where the network changed") + "<div class='grid'>" + report::weight_change_figure(runs) +
       report::first_batch_figure(runs) + "</div>";

  h += section("Gradient norm per stage and epoch") + "<p class='note'>Colour is log<sub>10</sub> of the L2 norm of "
       "each stage's gradient (one colour scale for every run and both views). Grey: no value, or zero.</p>";
  const auto range = report::grad_log10_range(runs);
  for (size_t i = 0; i < runs.size(); ++i) h += run_heading(runs[i], i) + report::grad_heatmaps(runs[i], range);

  if (runs.size() == 1) {  // one run: loss and learning rate side by side
    h += section("Loss and learning rate") + "<div class='grid'>" + report::loss_figure(runs[0]) +
         report::lr_figure(runs[0]) + "</div>";
  } else {
    h += section("Loss") + "<div class='grid'>" + report::loss_overlay_figure(runs) + "</div>" +
         per_run(runs, report::loss_figure);
    h += section("Learning rate per stage") + per_run(runs, report::lr_figure);
  }

  std::string validation;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string v = report::validation_figures(runs[i]);
    if (!v.empty()) validation += run_heading(runs[i], i) + v;
  }
  h += section("Validation") +
       (validation.empty() ? "<p class='note'>No validation records or val_predictions.json.</p>" : validation);

  std::string test;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string v = report::eval_figures(runs[i]);
    if (!v.empty()) test += run_heading(runs[i], i) + v;
  }
  if (!test.empty()) h += section("Test set (eval/metrics.json)") + test;
  std::string gallery;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string g = report::gallery_figures(runs[i].dir, images);
    if (!g.empty()) gallery += run_heading(runs[i], i) + g;
  }
  if (!gallery.empty()) h += section("Where the model looks") + gallery;
  const std::string paired = report::paired_comparison_section(runs);
  if (!paired.empty()) h += section("Paired comparison on the test set (eval/compare.json)") + paired;

  h += section("Training health") + "<p class='note'>Checks over every step record: NaN/Inf in loss or gradient "
       "norms; spikes above 10× the running median of the previous 50 steps; stages whose gradient norm falls "
       "below 10⁻³ × the head's; frozen stages (lr 0 or weight change 0). Over the epoch records: a NaN/Inf "
       "validation loss; a diverging one (the last above twice the lowest of an earlier epoch); validation "
       "accuracy back at chance (within 0.02 of always predicting the majority class) after an epoch at least "
       "0.10 above it.</p>" +
       per_run(runs, [&](const RunData& r) { return health_list(r, health[static_cast<size_t>(&r - runs.data())]); });

  h += section("Recipe and environment") + per_run(runs, environment);
  h += "<footer>Written by cxrtune report from " + std::to_string(runs.size()) + " run director" +
       (runs.size() == 1 ? "y" : "ies") + ". Self-contained: no script, no network access.</footer></main></body></html>\n";
  return h;
}

void write_report(const std::vector<std::string>& run_dirs, const std::string& out_html, bool images) {
  // The output path is the user's: a missing directory is their input (exit 2), not an I/O failure.
  const std::filesystem::path target(out_html);
  if (target.has_parent_path() && !std::filesystem::is_directory(target.parent_path()))
    throw UsageError("report: cannot write " + out_html + ": directory " + target.parent_path().string() +
                     " does not exist");
  write_file_atomic(out_html, render_report(run_dirs, images));
}

}  // namespace cxr
