// ROC curves, confusion matrix and per-class metrics of one run's last validation, and the
// test-set numbers of `cxrtune eval` when RUN_DIR/eval/metrics.json exists.
#include <algorithm>
#include <cmath>

#include "reports/classification.h"
#include "reports/figures.h"
#include "reports/html.h"
#include "reports/svg_chart.h"

namespace cxr::report {
namespace {

std::string confusion_table(const std::vector<std::string>& classes, const std::vector<std::vector<int64_t>>& m) {
  if (m.empty() || m.size() != classes.size()) return "";
  std::string t = "<table class='confusion'><caption>Confusion matrix, last validation (rows: truth, columns: "
                  "predicted class = highest score)</caption><thead><tr><th>truth \\ predicted</th>";
  for (const auto& c : classes) t += "<th>" + html::escape(c) + "</th>";
  t += "<th>recall</th></tr></thead><tbody>";
  for (size_t i = 0; i < m.size(); ++i) {
    int64_t row_total = 0;
    for (int64_t v : m[i]) row_total += v;
    t += "<tr><th>" + html::escape(classes[i]) + "</th>";
    for (size_t j = 0; j < m[i].size(); ++j) {
      // Shade by the share of the row, so the diagonal reads as per-class recall at a glance.
      const double share = row_total ? static_cast<double>(m[i][j]) / static_cast<double>(row_total) : 0.0;
      const int alpha = static_cast<int>(std::lround(share * 100));
      t += std::string("<td class='") + (i == j ? "diag" : "off") + "' style='--share:" + std::to_string(alpha) + "%'>" +
           std::to_string(m[i][j]) + "</td>";
    }
    t += "<td>" + html::num("%.3f", row_total ? static_cast<double>(m[i][i]) / static_cast<double>(row_total) : std::nan("")) +
         "</td></tr>";
  }
  return t + "</tbody></table>";
}

html::Table class_table(const std::vector<ClassMetricsRow>& rows, const std::string& caption) {
  html::Table t{{"class", "support", "AUROC", "sens. @0.5", "spec. @0.5", "threshold J", "sens. @J", "spec. @J"},
                {},
                true,
                caption};
  // eval/metrics.json's rows carry DeLong intervals: a column beside the AUROC.
  const bool ci = std::any_of(rows.begin(), rows.end(), [](const ClassMetricsRow& c) { return std::isfinite(c.auroc_lower); });
  if (ci) t.header.insert(t.header.begin() + 3, "AUROC 95 % CI (DeLong)");
  for (const auto& c : rows) {
    t.rows.push_back({c.name, std::to_string(c.support), html::num("%.4f", c.auroc), html::num("%.3f", c.sens_half),
                      html::num("%.3f", c.spec_half), html::num("%.3f", c.threshold_j), html::num("%.3f", c.sens_j),
                      html::num("%.3f", c.spec_j)});
    if (ci)
      t.rows.back().insert(t.rows.back().begin() + 3,
                           html::num("%.4f", c.auroc_lower) + "–" + html::num("%.4f", c.auroc_upper));
  }
  return t;
}

}  // namespace

std::string validation_figures(const RunData& run) {
  const Predictions& p = run.predictions;
  const EpochRow* last_val = nullptr;
  for (const EpochRow& e : run.epochs)
    if (e.has_val) last_val = &e;
  if (p.scores.empty() && !last_val && !run.eval.present) return "";
  std::string out = "<div class='valpair'>";
  if (!p.scores.empty()) {
    svg::LineChart c;
    c.xlabel = "1 − specificity (false positive rate)";
    c.ylabel = "sensitivity (true positive rate)";
    c.x_range = c.y_range = std::make_pair(0.0, 1.0);
    c.chance_diagonal = true;
    c.display_buckets = 0;
    // Binary: the positive class's curve only (the other is its mirror image).
    const size_t first = p.classes.size() == 2 && p.single_label ? 1 : 0;
    html::Table points{{"class", "threshold", "false positive rate", "true positive rate"}, {}, true, "ROC points"};
    double single_auroc = std::nan("");
    for (size_t k = first; k < p.classes.size(); ++k) {
      const Roc roc = roc_curve(p, k);
      single_auroc = roc.auroc;
      c.series.push_back({p.classes[k] + "  AUROC " + html::num("%.3f", roc.auroc), roc.fpr, roc.tpr,
                          svg::palette(k - first), false, false, 2.0});
      const size_t every = std::max<size_t>(1, roc.fpr.size() / 100);
      for (size_t i = 0; i < roc.fpr.size(); i += every)
        points.rows.push_back({p.classes[k], i == 0 ? "∞" : html::num("%.4f", roc.threshold[i]), html::num("%.4f", roc.fpr[i]),
                               html::num("%.4f", roc.tpr[i])});
    }
    c.title = c.series.size() == 1 ? "ROC, " + p.classes[first] + " (AUROC " + html::num("%.3f", single_auroc) + ")"
                                   : "ROC curves, one-vs-rest";
    // Square plot; a legend only when there are several curves (binary: AUROC is in the title).
    c.layout.height = 430;
    std::vector<std::string> names;
    for (const auto& s : c.series) names.push_back(s.name);
    c.layout.right = c.series.size() > 1 ? svg::legend_margin(c.layout, names) : 24;
    c.layout.width = c.layout.left + c.layout.right + (c.layout.height - c.layout.top - c.layout.bottom);
    out += html::figure(svg::line_chart(c), "ROC points as numbers", points,
                        std::to_string(p.scores.size()) + " images of the last validation (val_predictions.json).");
  }
  out += "<div>";
  const auto confusion = last_val && !last_val->confusion.empty() ? last_val->confusion : confusion_matrix(p);
  const auto& names = !p.classes.empty() ? p.classes : run.count_classes;
  out += confusion_table(names, confusion);
  const auto per_class = last_val && !last_val->per_class.empty() ? last_val->per_class : class_metrics(p);
  if (!per_class.empty())
    out += html::table(class_table(per_class, "Per class, last validation (sens./spec.: sensitivity/specificity; "
                                              "J: the threshold maximising Youden's J = sens. + spec. − 1)"));
  if (last_val)
    out += "<p class='note'>Last validation (epoch " + std::to_string(last_val->epoch) + "): loss " +
           html::num("%.4f", last_val->val_loss) + ", accuracy " + html::num("%.4f", last_val->val_accuracy) +
           ", macro AUROC " + html::num("%.4f", last_val->val_auroc) + ".</p>";
  if (run.eval.present) {
    out += "<p class='note'>Held-out evaluation (eval/metrics.json): " + std::to_string(run.eval.count) + " images, loss " +
           html::num("%.4f", run.eval.loss) + ", accuracy " + html::num("%.4f", run.eval.accuracy) + ", macro AUROC " +
           html::escape(test_auroc_text(run.eval)) + ".</p>";
    if (!run.eval.per_class.empty()) out += html::table(class_table(run.eval.per_class, "Per class, eval/metrics.json"));
  }
  return out + "</div></div>";
}

}  // namespace cxr::report
