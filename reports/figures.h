// The report's figures, each as HTML markup: an inline SVG chart with title and labelled axes,
// followed by its numbers as a table in a <details> block. Inputs are runs as read from their
// directories; every text taken from a run is escaped by the chart and table helpers.
//   figures_training.cpp    loss, learning rate, gradient-norm heatmaps (one run)
//   figures_validation.cpp  ROC, confusion matrix, per-class metrics (one run)
//   figures_eval.cpp        test-set reliability diagram, PR curves, operating point (one run)
//   figures_compare.cpp     weight change and first-batch gradient norms (runs grouped), loss
//                           overlay of several runs, the summary table and the narrative
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/health.h"
#include "reports/run_reader.h"

namespace cxr::report {

// Colour of a stage by depth (input side → head) and of the i-th run.
std::string stage_color(size_t index, size_t count);
std::string run_color(size_t index);

// EMA of the step losses, bias-corrected like TensorBoard's smoothing; `span` in steps.
std::vector<double> smoothed(const std::vector<double>& values, double span);
double smoothing_span(size_t steps);

std::string loss_figure(const RunData& run);
std::string lr_figure(const RunData& run);
// Two heatmaps (last step of epoch, mean over epoch) sharing `log10_range` (all runs alike).
std::string grad_heatmaps(const RunData& run, std::optional<std::pair<double, double>> log10_range);
// The log10 range of every epoch gradient norm of every run (shared colour scale).
std::optional<std::pair<double, double>> grad_log10_range(const std::vector<RunData>& runs);

std::string validation_figures(const RunData& run);  // empty when the run has no validation
// eval/metrics.json's reliability diagram, PR curves and operating point (figures_eval.cpp);
// empty without eval/metrics.json.
std::string eval_figures(const RunData& run);
// The test AUROC as text, with its 95 % CI when metrics.json has one (not escaped).
std::string test_auroc_text(const EvalSummary& eval);

// `health[i]`: gradient_health(runs[i]), computed once by the caller.
std::string summary_table(const std::vector<RunData>& runs, const std::vector<std::vector<Finding>>& health);
std::string story(const std::vector<RunData>& runs);  // the one-paragraph reading of the bars
std::string weight_change_figure(const std::vector<RunData>& runs);
std::string first_batch_figure(const std::vector<RunData>& runs);
std::string loss_overlay_figure(const std::vector<RunData>& runs);  // several runs only

// The stages of all runs, first run's order first.
std::vector<std::string> all_stages(const std::vector<RunData>& runs);

}  // namespace cxr::report
