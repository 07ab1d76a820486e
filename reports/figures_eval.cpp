// The statistics of `cxrtune eval` (RUN_DIR/eval/metrics.json) as figures, each with its
// numbers in a table: the reliability diagram, the precision–recall curves and the operating
// point chosen on validation with its intervals.
#include <algorithm>
#include <cmath>

#include "reports/figures.h"
#include "reports/html.h"
#include "reports/svg_chart.h"

namespace cxr::report {
namespace {

std::string with_ci(const ValueCi& v, const char* format = "%.3f") {
  if (!std::isfinite(v.lower)) return html::num(format, v.value);
  return html::num(format, v.value) + " [" + html::num(format, v.lower) + ", " + html::num(format, v.upper) + "]";
}

// A square chart on [0, 1]² with a legend only for several series.
void square(svg::LineChart& c) {
  c.x_range = c.y_range = std::make_pair(0.0, 1.0);
  c.display_buckets = 0;
  c.layout.height = 430;
  std::vector<std::string> names;
  for (const auto& s : c.series) names.push_back(s.name);
  c.layout.right = c.series.size() > 1 ? svg::legend_margin(c.layout, names) : 24;
  c.layout.width = c.layout.left + c.layout.right + (c.layout.height - c.layout.top - c.layout.bottom);
}

std::string reliability_figure(const EvalSummary& e) {
  if (e.reliability.empty()) return "";
  svg::LineChart c;
  c.title = "Reliability diagram (Brier " + html::num("%.4f", e.brier) + ", ECE " + html::num("%.4f", e.ece) + ")";
  c.xlabel = "mean predicted probability in the bin";
  c.ylabel = "observed frequency of positives";
  c.chance_diagonal = true;  // perfect calibration
  svg::Series s{"observed", {}, {}, svg::palette(0), false, true, 2.0};
  html::Table t{{"bin", "images", "mean predicted", "observed frequency", "|gap|"}, {}, true,
                "Reliability bins (" + e.ece_binning + "; " + e.calibration_of + ")"};
  for (const ReliabilityRow& b : e.reliability) {
    if (b.count > 0) s.x.push_back(b.mean_predicted), s.y.push_back(b.observed);
    t.rows.push_back({html::num("%.3f", b.lower) + "–" + html::num("%.3f", b.upper), std::to_string(b.count),
                      b.count ? html::num("%.3f", b.mean_predicted) : "–", b.count ? html::num("%.3f", b.observed) : "–",
                      b.count ? html::num("%.3f", std::abs(b.mean_predicted - b.observed)) : "–"});
  }
  c.series.push_back(std::move(s));
  square(c);
  return html::figure(svg::line_chart(c), "Reliability bins as numbers", t,
                      "ECE = Σ (images in bin / images) · |mean predicted − observed| over the " + e.ece_binning +
                          ". Calibration of " + e.calibration_of + ". The diagonal is perfect calibration.");
}

std::string pr_figure(const EvalSummary& e) {
  if (e.pr_curves.empty()) return "";
  svg::LineChart c;
  c.title = e.pr_curves.size() == 1 ? "Precision–recall, " + e.pr_curves[0].name : "Precision–recall curves";
  c.xlabel = "recall (sensitivity)";
  c.ylabel = "precision (PPV)";
  html::Table t{{"class", "threshold", "recall", "precision"}, {}, true, "Precision–recall points"};
  for (size_t k = 0; k < e.pr_curves.size(); ++k) {
    const PrCurveRow& p = e.pr_curves[k];
    c.series.push_back({p.name + "  AP " + html::num("%.3f", p.average_precision), p.recall, p.precision, svg::palette(k),
                        false, false, 2.0});
    const size_t every = std::max<size_t>(1, p.recall.size() / 100);
    for (size_t i = 0; i < p.recall.size(); i += every)
      t.rows.push_back({p.name, std::isfinite(p.thresholds[i]) ? html::num("%.4f", p.thresholds[i]) : "∞",
                        html::num("%.4f", p.recall[i]), html::num("%.4f", p.precision[i])});
  }
  square(c);
  return html::figure(svg::line_chart(c), "Precision–recall points as numbers", t,
                      "Average precision (AP) is the step-wise area, as scikit-learn's average_precision_score.");
}

std::string operating_point_table(const EvalSummary& e) {
  if (e.operating_points.empty()) return "";
  html::Table t{{"class", "threshold", "target", "on validation", "on test", "TP", "FP", "TN", "FN", "sensitivity",
                 "specificity", "PPV", "NPV", "F1"},
                {},
                true,
                "Operating point (" + e.operating_rule + "), chosen on " + e.operating_chosen_on +
                    " and applied unchanged to the test images; 95 % CIs: Wilson, F1 bootstrap"};
  for (const OperatingPointRow& r : e.operating_points)
    t.rows.push_back({r.name, html::num("%.4f", r.threshold), r.target, html::num("%.3f", r.val_achieved),
                      html::num("%.3f", r.achieved), std::to_string(r.tp), std::to_string(r.fp), std::to_string(r.tn),
                      std::to_string(r.fn), with_ci(r.sensitivity), with_ci(r.specificity), with_ci(r.ppv),
                      with_ci(r.npv), with_ci(r.f1)});
  return html::table(t);
}

}  // namespace

std::string test_auroc_text(const EvalSummary& e) {
  if (!std::isfinite(e.auroc_ci.lower)) return html::num("%.4f", e.auroc);
  return html::num("%.4f", e.auroc) + " (95 % CI " + html::num("%.4f", e.auroc_ci.lower) + "–" +
         html::num("%.4f", e.auroc_ci.upper) + ")";
}

std::string eval_figures(const RunData& run) {
  const EvalSummary& e = run.eval;
  if (!e.present) return "";
  std::string out = "<p class='note'>Test AUROC " + html::escape(test_auroc_text(e));
  if (!e.auroc_ci_method.empty()) out += "; interval: " + html::escape(e.auroc_ci_method);
  out += ".</p><div class='valpair'>" + reliability_figure(e) + pr_figure(e) + "</div>" + operating_point_table(e);
  return out;
}

}  // namespace cxr::report
