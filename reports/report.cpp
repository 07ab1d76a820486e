#include "reports/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/errors.h"
#include "reports/run_reader.h"
#include "reports/svg_chart.h"

namespace cxr {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return std::isfinite(v) ? std::string(buf) : std::string("–");
}

const char* kStyle = R"(
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1340px;color:#222}
h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.chart{width:100%;height:auto;background:#fff}.chart .title{font-size:13px;font-weight:600}
.chart .axis{font-size:11px;fill:#444}.chart .tick{font-size:10px;fill:#555}.chart .legend{font-size:11px}
.chart .value{font-size:9px;fill:#222}.chart .cell{font-size:9px;fill:#fff}.chart .plot{fill:#fafafa;stroke:#bbb}
.chart .grid{stroke:#e4e4e4}table{border-collapse:collapse;font-size:12px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f3f3f3}
pre{background:#f7f7f7;padding:8px;font-size:11px;overflow:auto}.warn{color:#b00}.ok{color:#070}
details{margin:4px 0 12px}.note{color:#555;font-size:13px}
@media print{.grid2{grid-template-columns:1fr}}
)";

struct Roc {
  std::vector<double> fpr, tpr;
  double auc = NAN;
};

// ROC of one class from the last validation's scores (one point per distinct threshold).
Roc roc_of(const RunData& r, size_t cls) {
  std::vector<std::pair<double, bool>> v;
  for (size_t i = 0; i < r.scores.size(); ++i)
    if (cls < r.scores[i].size()) v.emplace_back(r.scores[i][cls], r.targets[i][cls] >= 0.5);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double pos = 0, neg = 0;
  for (const auto& [s, p] : v) (p ? pos : neg) += 1;
  Roc roc;
  if (pos == 0 || neg == 0) return roc;
  double tp = 0, fp = 0, auc = 0;
  roc.fpr.push_back(0);
  roc.tpr.push_back(0);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i].second ? ++tp : ++fp;
    if (i + 1 < v.size() && v[i + 1].first == v[i].first) continue;
    auc += (fp / neg - roc.fpr.back()) * (tp / pos + roc.tpr.back()) / 2;
    roc.fpr.push_back(fp / neg);
    roc.tpr.push_back(tp / pos);
  }
  roc.auc = auc;
  return roc;
}

std::string details(const std::string& summary, const std::string& table) {
  return "<details><summary>" + html_escape(summary) + "</summary>" + table + "</details>";
}

std::string stage_table(const std::vector<std::string>& stages, const std::vector<std::pair<std::string, std::map<std::string, double>>>& rows,
                        const char* format) {
  std::string t = "<table><tr><th></th>";
  for (const auto& s : stages) t += "<th>" + html_escape(s) + "</th>";
  t += "</tr>";
  for (const auto& [name, values] : rows) {
    t += "<tr><th>" + html_escape(name) + "</th>";
    for (const auto& s : stages) t += "<td>" + (values.count(s) ? fmt(format, values.at(s)) : "–") + "</td>";
    t += "</tr>";
  }
  return t + "</table>";
}

std::vector<std::string> health_findings(const RunData& r) {
  std::vector<std::string> issues;
  std::vector<double> history;
  for (const StepRow& s : r.steps) {
    for (const auto& [stage, g] : s.grad)
      if (!std::isfinite(g)) issues.push_back("non-finite gradient norm in " + stage + " at step " + std::to_string(s.step));
    if (!std::isfinite(s.loss)) issues.push_back("non-finite loss at step " + std::to_string(s.step));
    const double total = s.grad.count("total") ? s.grad.at("total") : NAN;
    if (history.size() >= 10 && std::isfinite(total)) {
      std::vector<double> h(history.end() - std::min<size_t>(history.size(), 50), history.end());
      std::nth_element(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(h.size() / 2), h.end());
      if (total > 10 * h[h.size() / 2])
        issues.push_back("gradient spike at step " + std::to_string(s.step) + ": total " + fmt("%.3g", total) +
                         " > 10 × running median " + fmt("%.3g", h[h.size() / 2]));
    }
    if (std::isfinite(total)) history.push_back(total);
  }
  if (!r.steps.empty()) {
    const StepRow& last = r.steps.back();
    const double head = last.grad.count("fc") ? last.grad.at("fc") : NAN;
    for (const auto& stage : r.stages) {
      const double g = last.grad.count(stage) ? last.grad.at(stage) : NAN;
      const double lr = last.lr.count(stage) ? last.lr.at(stage) : NAN;
      if (lr == 0 || (r.weight_change.count(stage) && r.weight_change.at(stage) == 0))
        issues.push_back("stage " + stage + " is frozen (lr 0, weight change 0)");
      else if (std::isfinite(head) && g < 1e-3 * head)
        issues.push_back("vanishing gradient in " + stage + " at step " + std::to_string(last.step) + ": " + fmt("%.3g", g) +
                         " < 1e-3 × head " + fmt("%.3g", head));
    }
  }
  return issues;
}

std::string health(const RunData& r) {
  const std::vector<std::string> issues = health_findings(r);
  if (issues.empty()) return "<p class='ok'>No NaN/Inf, no spikes above 10× the running median, no vanishing stage.</p>";
  std::string out = "<ul>";
  for (size_t i = 0; i < issues.size() && i < 40; ++i) out += "<li class='warn'>" + html_escape(issues[i]) + "</li>";
  if (issues.size() > 40) out += "<li>… " + std::to_string(issues.size() - 40) + " more</li>";
  return out + "</ul>";
}

std::string run_section(const RunData& r) {
  std::string h = "<h2>Run " + html_escape(r.name) + "</h2><div class='grid2'>";
  // 1. Loss.
  svg::Series raw{"train loss (step)", {}, {}, "#9ecae1"}, ema{"EMA 0.9", {}, {}, "#1f77b4"};
  double e = NAN;
  for (const StepRow& s : r.steps) {
    raw.x.push_back(static_cast<double>(s.step));
    raw.y.push_back(s.loss);
    e = std::isfinite(e) ? 0.9 * e + 0.1 * s.loss : s.loss;
    ema.x.push_back(static_cast<double>(s.step));
    ema.y.push_back(e);
  }
  svg::Series tr{"train loss (epoch)", {}, {}, "#2ca02c", false, true}, va{"val loss (epoch)", {}, {}, "#d62728", true, true};
  std::vector<std::map<std::string, double>> dummy;
  for (const EpochRow& ep : r.epochs) {
    double end_step = 0;
    for (const StepRow& s : r.steps)
      if (s.epoch == ep.epoch) end_step = static_cast<double>(s.step);
    tr.x.push_back(end_step), tr.y.push_back(ep.train_loss);
    if (ep.has_val) va.x.push_back(end_step), va.y.push_back(ep.val_loss);
  }
  h += svg::line_chart("Training and validation loss", "optimizer step", "loss", {raw, ema, tr, va}, false);
  // 2. Learning rate per stage.
  std::vector<svg::Series> lrs;
  for (size_t k = 0; k < r.stages.size(); ++k) {
    svg::Series s{r.stages[k], {}, {}, svg::palette(k)};
    for (const StepRow& st : r.steps) s.x.push_back(static_cast<double>(st.step)), s.y.push_back(st.lr.count(r.stages[k]) ? st.lr.at(r.stages[k]) : NAN);
    lrs.push_back(s);
  }
  h += svg::line_chart("Learning rate per stage", "optimizer step", "lr (log)", lrs, true) + "</div>";
  {
    const size_t every = std::max<size_t>(1, r.steps.size() / 200);
    std::string t = "<table><tr><th>step</th><th>epoch</th><th>loss</th>";
    for (const auto& st : r.stages) t += "<th>lr " + html_escape(st) + "</th>";
    t += "</tr>";
    for (size_t i = 0; i < r.steps.size(); i += every) {
      const StepRow& st = r.steps[i];
      t += "<tr><td>" + std::to_string(st.step) + "</td><td>" + std::to_string(st.epoch) + "</td><td>" + fmt("%.5f", st.loss) + "</td>";
      for (const auto& name : r.stages) t += "<td>" + (st.lr.count(name) ? fmt("%.3g", st.lr.at(name)) : "–") + "</td>";
      t += "</tr>";
    }
    h += details("Loss and learning rates as numbers" + std::string(every > 1 ? " (every " + std::to_string(every) + "th step)" : ""),
                 t + "</table>");
  }
  // 3. Heatmaps.
  std::vector<std::string> cols;
  std::vector<std::vector<double>> last(r.stages.size()), mean(r.stages.size());
  std::vector<std::pair<std::string, std::map<std::string, double>>> last_rows, mean_rows;
  for (const EpochRow& ep : r.epochs) {
    cols.push_back(std::to_string(ep.epoch));
    for (size_t k = 0; k < r.stages.size(); ++k) {
      last[k].push_back(ep.grad_last.count(r.stages[k]) ? ep.grad_last.at(r.stages[k]) : NAN);
      mean[k].push_back(ep.grad_mean.count(r.stages[k]) ? ep.grad_mean.at(r.stages[k]) : NAN);
    }
    last_rows.emplace_back("epoch " + std::to_string(ep.epoch) + " last", ep.grad_last);
    mean_rows.emplace_back("epoch " + std::to_string(ep.epoch) + " mean", ep.grad_mean);
  }
  h += "<div class='grid2'>" + svg::heatmap("Gradient norm per stage — last step of each epoch", r.stages, cols, last) +
       svg::heatmap("Gradient norm per stage — mean over each epoch", r.stages, cols, mean) + "</div>";
  auto all_rows = last_rows;
  all_rows.insert(all_rows.end(), mean_rows.begin(), mean_rows.end());
  h += details("Gradient norms as numbers", stage_table(r.stages, all_rows, "%.4g"));
  // 6. ROC and confusion.
  if (!r.scores.empty()) {
    std::vector<svg::Series> rocs{{"chance", {0, 1}, {0, 1}, "#aaa", true}};
    std::string aucs, roc_tables, title = "ROC, last validation";
    const size_t first = r.classes.size() == 2 ? 1 : 0;
    for (size_t c = first; c < r.classes.size(); ++c) {
      const Roc roc = roc_of(r, c);
      rocs.push_back({r.classes[c], roc.fpr, roc.tpr, svg::palette(c)});
      aucs += "<tr><th>" + html_escape(r.classes[c]) + "</th><td>" + fmt("%.4f", roc.auc) + "</td></tr>";
      if (r.classes.size() == 2) title += " (AUROC " + fmt("%.4f", roc.auc) + ")";
      std::string pts = "<table><tr><th>false positive rate</th><th>true positive rate</th></tr>";
      const size_t every = std::max<size_t>(1, roc.fpr.size() / 100);
      for (size_t i = 0; i < roc.fpr.size(); i += every)
        pts += "<tr><td>" + fmt("%.4f", roc.fpr[i]) + "</td><td>" + fmt("%.4f", roc.tpr[i]) + "</td></tr>";
      roc_tables += details("ROC points of " + r.classes[c], pts + "</table>");
    }
    h += "<div class='grid2'>" + svg::line_chart(title, "false positive rate", "true positive rate", rocs, false);
    std::string cm = "<h3>Confusion matrix (rows: truth, columns: prediction)</h3><table><tr><th></th>";
    if (!r.epochs.empty() && !r.epochs.back().confusion.empty()) {
      for (const auto& c : r.classes) cm += "<th>" + html_escape(c) + "</th>";
      cm += "</tr>";
      const auto& m = r.epochs.back().confusion;
      for (size_t i = 0; i < m.size() && i < r.classes.size(); ++i) {
        cm += "<tr><th>" + html_escape(r.classes[i]) + "</th>";
        for (int64_t v : m[i]) cm += "<td>" + std::to_string(v) + "</td>";
        cm += "</tr>";
      }
    }
    std::string pc;
    if (!r.epochs.empty() && !r.epochs.back().per_class.empty()) {
      pc = "<h3>Per class, last validation</h3><table><tr><th>class</th><th>support</th><th>AUROC</th>"
           "<th>sens @0.5</th><th>spec @0.5</th><th>Youden threshold</th><th>sens @J</th><th>spec @J</th></tr>";
      for (const auto& c : r.epochs.back().per_class)
        pc += "<tr><th>" + html_escape(c.name) + "</th><td>" + std::to_string(c.support) + "</td><td>" + fmt("%.4f", c.auroc) +
              "</td><td>" + fmt("%.3f", c.sens_half) + "</td><td>" + fmt("%.3f", c.spec_half) + "</td><td>" +
              fmt("%.3f", c.threshold_j) + "</td><td>" + fmt("%.3f", c.sens_j) + "</td><td>" + fmt("%.3f", c.spec_j) + "</td></tr>";
      pc += "</table>";
    }
    h += "<div>" + cm + "</table><table><tr><th>class</th><th>AUROC (curve)</th></tr>" + aucs + "</table>" + pc + "</div></div>" + roc_tables;
  }
  // Epoch table.
  std::string t = "<table><tr><th>epoch</th><th>train loss</th><th>val loss</th><th>val accuracy</th><th>val AUROC</th></tr>";
  for (const EpochRow& ep : r.epochs)
    t += "<tr><td>" + std::to_string(ep.epoch) + "</td><td>" + fmt("%.4f", ep.train_loss) + "</td><td>" + fmt("%.4f", ep.val_loss) +
         "</td><td>" + fmt("%.4f", ep.val_accuracy) + "</td><td>" + fmt("%.4f", ep.val_auroc) + "</td></tr>";
  h += "<h3>Epochs</h3>" + t + "</table>";
  h += "<h3>Gradient health</h3>" + health(r);
  std::string env = "<table>";
  for (const auto& [k, v] : r.environment) env += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>";
  h += "<h3>Environment and data</h3>" + (r.environment.empty() ? std::string("<p class='note'>no run_info.json</p>") : env + "</table>");
  h += details("Resolved recipe", "<pre>" + html_escape(r.recipe) + "</pre>");
  return h;
}

}  // namespace

std::string report_json(const std::vector<std::string>& run_dirs) {
  nlohmann::json out = nlohmann::json::array();
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  auto nums = [&](const std::map<std::string, double>& m) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : m) j[k] = num(v);
    return j;
  };
  for (const auto& d : run_dirs) {
    const RunData r = read_run(d);
    nlohmann::json epochs = nlohmann::json::array();
    for (const EpochRow& e : r.epochs)
      epochs.push_back({{"epoch", e.epoch}, {"train_loss", num(e.train_loss)}, {"val_loss", num(e.val_loss)},
                        {"val_accuracy", num(e.val_accuracy)}, {"val_auroc", num(e.val_auroc)},
                        {"grad_norm_mean", nums(e.grad_mean)}, {"grad_norm_last", nums(e.grad_last)}});
    out.push_back({{"run", r.name},
                   {"steps", r.steps.size()},
                   {"stages", r.stages},
                   {"epochs", epochs},
                   {"weight_change", nums(r.weight_change)},
                   {"first_batch_grad_norm", r.steps.empty() ? nlohmann::json::object() : nums(r.steps.front().grad)},
                   {"health", health_findings(r)}});
  }
  return nlohmann::json({{"runs", out}}).dump(2) + "\n";
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void write_report(const std::vector<std::string>& run_dirs, const std::string& out_html) {
  if (run_dirs.empty()) throw UsageError("report: no run directory given");
  std::vector<RunData> runs;
  for (const auto& d : run_dirs) runs.push_back(read_run(d));
  std::string h = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>cxrtune report</title><style>" + std::string(kStyle) +
                  "</style></head><body><h1>cxrtune — how fine-tuning moved each stage</h1>"
                  "<p class='note'>Backpropagation gives every layer a gradient, but a pretrained network adapts unevenly: "
                  "early stages barely move, the new head moves most. The bars show how far each stage's weights moved "
                  "(‖W<sub>final</sub> − W<sub>init</sub>‖ / ‖W<sub>init</sub>‖); the heatmaps show gradient norms per stage and epoch.</p>";
  // 4 and 5: weight change and first-batch gradient norms, runs side by side.
  const std::vector<std::string>& stages = runs.front().stages;
  std::vector<svg::BarGroup> change, first;
  std::vector<std::pair<std::string, std::map<std::string, double>>> change_rows, first_rows;
  for (size_t i = 0; i < runs.size(); ++i) {
    svg::BarGroup c{runs[i].name, {}, svg::palette(i)}, f{runs[i].name, {}, svg::palette(i)};
    for (const auto& s : stages) {
      c.values.push_back(runs[i].weight_change.count(s) ? runs[i].weight_change.at(s) : NAN);
      f.values.push_back(!runs[i].steps.empty() && runs[i].steps.front().grad.count(s) ? runs[i].steps.front().grad.at(s) : NAN);
    }
    change.push_back(c);
    first.push_back(f);
    std::map<std::string, double> pct;
    for (const auto& [k, v] : runs[i].weight_change) pct[k] = 100 * v;
    change_rows.emplace_back(runs[i].name + " (%)", pct);
    if (!runs[i].steps.empty()) first_rows.emplace_back(runs[i].name, runs[i].steps.front().grad);
  }
  h += "<h2>What moved</h2><div class='grid2'>" +
       svg::bar_chart("Relative weight change per stage", "‖ΔW‖/‖W₀‖ (log)", stages, change, "%.2f%%", 100.0) +
       svg::bar_chart("Gradient norm per stage, first batch", "‖g‖ (log)", stages, first, "%.3g", 1.0) + "</div>";
  h += details("Weight change and first-batch gradient norms as numbers",
               stage_table(stages, change_rows, "%.3f") + stage_table(stages, first_rows, "%.4g"));
  for (const RunData& r : runs) h += run_section(r);
  h += "<p class='note'>Written by cxrtune from " + std::to_string(runs.size()) + " run director" +
       (runs.size() == 1 ? "y" : "ies") + ". Self-contained: no script, no network.</p></body></html>\n";
  write_file_atomic(out_html, h);
}

}  // namespace cxr
