// Loss, learning-rate and gradient-norm figures of one run.
#include <algorithm>
#include <cmath>
#include <map>

#include "reports/figures.h"
#include "reports/html.h"
#include "reports/svg_chart.h"

namespace cxr::report {
namespace {

// At most `rows` evenly spaced indices of [0, n), always including the last one.
std::vector<size_t> table_rows(size_t n, size_t rows) {
  std::vector<size_t> out;
  if (n == 0) return out;
  const size_t every = std::max<size_t>(1, (n + rows - 1) / rows);
  for (size_t i = 0; i < n; i += every) out.push_back(i);
  if (out.back() != n - 1) out.push_back(n - 1);
  return out;
}

std::string rows_note(size_t shown, size_t total) {
  return shown < total ? " (" + std::to_string(shown) + " of " + std::to_string(total) + " steps, evenly spaced)" : "";
}

// The last step of each epoch: where epoch values sit on a step axis.
std::map<int64_t, int64_t> epoch_end_steps(const RunData& run) {
  std::map<int64_t, int64_t> end;
  for (const StepRow& s : run.steps) end[s.epoch] = std::max(end.count(s.epoch) ? end[s.epoch] : s.step, s.step);
  return end;
}

std::vector<double> epoch_marks(const RunData& run) {
  std::vector<double> marks;
  const auto end = epoch_end_steps(run);
  if (end.size() > 60) return marks;  // too many lines would grey the plot
  for (const auto& [epoch, step] : end) marks.push_back(static_cast<double>(step) + 0.5);
  if (!marks.empty()) marks.pop_back();
  return marks;
}

// What the rates say, computed from them: each stage's peak rate (the schedule scales every
// stage alike, so peaks compare the per-stage multipliers), fastest against slowest.
std::string lr_note(const RunData& run) {
  std::vector<double> peak(run.stages.size(), 0.0);
  for (const StepRow& st : run.steps)
    for (size_t k = 0; k < peak.size() && k < st.lr.size(); ++k)
      if (std::isfinite(st.lr[k])) peak[k] = std::max(peak[k], st.lr[k]);
  std::vector<size_t> active;
  for (size_t k = 0; k < peak.size(); ++k)
    if (peak[k] > 0) active.push_back(k);
  if (active.empty()) return "No stage has a learning rate above 0.";
  size_t fast = active.front(), slow = active.front();
  bool rising = active.size() > 1;
  for (size_t i = 0; i < active.size(); ++i) {
    const size_t k = active[i];
    if (peak[k] > peak[fast]) fast = k;
    if (peak[k] < peak[slow]) slow = k;
    if (i > 0) rising &= peak[k] > peak[active[i - 1]] * (1 + 1e-9);
  }
  const double ratio = peak[fast] / peak[slow];
  if (active.size() == 1 || ratio < 1 + 1e-6)
    return "Every stage has the same learning rate (peak " + html::num("%.3g", peak[fast]) +
           "): no layer-wise decay or per-stage multiplier.";
  const std::string apart = " (peak " + html::num("%.3g", peak[fast]) + " vs " + html::num("%.3g", peak[slow]) + ", " +
                            html::num("%.3g", ratio) + "×)";
  if (rising && fast == active.back())
    return "Layer-wise rates: " + run.stages[fast] + " learns fastest, each stage nearer the input slower, " +
           run.stages[slow] + " slowest" + apart + ".";
  return "Per-stage rates: " + run.stages[fast] + " learns fastest, " + run.stages[slow] + " slowest" + apart + ".";
}

// The loss the run minimised, from its resolved recipe (loss.name); empty when unknown. The
// report reads no YAML library: recipe.yaml is the writer's block style, "loss:" then "  name:".
std::string recipe_loss_name(const std::string& recipe) {
  bool in_loss = false;
  size_t at = 0;
  while (at < recipe.size()) {
    const size_t end = std::min(recipe.find('\n', at), recipe.size());
    const std::string line = recipe.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line[0] != ' ' && line[0] != '#') in_loss = line.rfind("loss:", 0) == 0;
    const size_t key = line.find("name:");
    if (in_loss && key != std::string::npos && line.find_first_not_of(' ') == key) {
      std::string v = line.substr(key + 5);
      v.erase(0, v.find_first_not_of(" \"'"));
      v.erase(v.find_last_not_of(" \"'\r") + 1);
      return v;
    }
  }
  return "";
}

}  // namespace

std::string stage_color(size_t index, size_t count) {
  // Depth ordered: dark (input side) to light-green (head); stops short of viridis' pale yellow.
  return svg::viridis(count > 1 ? 0.86 * static_cast<double>(index) / static_cast<double>(count - 1) : 0.0);
}

std::string run_color(size_t index) { return svg::palette(index); }

double smoothing_span(size_t steps) { return std::clamp(static_cast<double>(steps) / 50.0, 5.0, 500.0); }

std::vector<double> smoothed(const std::vector<double>& values, double span) {
  const double alpha = 2.0 / (span + 1.0);
  std::vector<double> out(values.size(), std::nan(""));
  double acc = 0, weight = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) acc = (1 - alpha) * acc + alpha * values[i], weight = (1 - alpha) * weight + alpha;
    if (weight > 0) out[i] = acc / weight;
  }
  return out;
}

std::string loss_figure(const RunData& run) {
  svg::Series raw{"train, per step", {}, {}, "#9fb9d6", false, false, 1.0, 0.9};
  for (const StepRow& s : run.steps) raw.x.push_back(static_cast<double>(s.step)), raw.y.push_back(s.loss);
  const double span = smoothing_span(run.steps.size());
  svg::Series ema{"train, EMA " + html::num("%.0f", span), raw.x, smoothed(raw.y, span), "#0b4f8a", false, false, 2.0};
  svg::Series train{"train, epoch", {}, {}, "#E69F00", false, true, 1.6};
  svg::Series val{"val, epoch", {}, {}, "#D55E00", true, true, 1.6};
  const auto end = epoch_end_steps(run);
  html::Table epochs{{"epoch", "last step", "train loss", "val loss", "val accuracy", "val AUROC"}, {}, true, "per epoch"};
  for (const EpochRow& e : run.epochs) {
    const auto it = end.find(e.epoch);
    const double x = it != end.end() ? static_cast<double>(it->second) : std::nan("");
    train.x.push_back(x), train.y.push_back(e.train_loss);
    if (e.has_val) val.x.push_back(x), val.y.push_back(e.val_loss);
    epochs.rows.push_back({std::to_string(e.epoch), it != end.end() ? std::to_string(it->second) : "–",
                           html::num("%.4f", e.train_loss), html::num("%.4f", e.val_loss), html::num("%.4f", e.val_accuracy),
                           html::num("%.4f", e.val_auroc)});
  }
  svg::LineChart c;
  c.title = "Training and validation loss";
  c.xlabel = "optimizer step";
  const std::string loss_name = recipe_loss_name(run.recipe);
  c.ylabel = loss_name == "bce" ? "loss (mean binary cross-entropy)"
             : loss_name == "cross_entropy" ? "loss (mean cross-entropy)"
                                            : "loss";
  c.series = {raw, ema, train};
  if (!val.x.empty()) c.series.push_back(val);
  c.include_zero = true;
  c.x_marks = epoch_marks(run);
  const auto rows = table_rows(run.steps.size(), 200);
  html::Table steps{{"step", "epoch", "loss", "EMA"}, {}, true, "per step" + rows_note(rows.size(), run.steps.size())};
  for (size_t i : rows)
    steps.rows.push_back({std::to_string(run.steps[i].step), std::to_string(run.steps[i].epoch),
                          html::num("%.5f", run.steps[i].loss), html::num("%.5f", ema.y[i])});
  // The caption names only what this chart draws.
  std::string caption = "Light: each step's batch loss; dark: its exponential moving average (span " +
                        html::num("%.0f", span) + " steps)";
  if (!run.epochs.empty()) caption += val.x.empty() ? "; dots: epoch train loss" : "; dots: epoch train and validation loss";
  if (!c.x_marks.empty()) caption += "; dotted lines: epoch ends";
  else if (end.size() > 60) caption += "; epoch ends not drawn (" + std::to_string(end.size()) + " epochs)";
  return "<figure>" + svg::line_chart(c) + "<figcaption>" + html::escape(caption + ".") + "</figcaption>" +
         html::details("Loss as numbers", html::table(epochs) + html::table(steps)) + "</figure>";
}

std::string lr_figure(const RunData& run) {
  svg::LineChart c;
  c.title = "Learning rate per stage";
  c.xlabel = "optimizer step";
  c.ylabel = "learning rate (log scale)";
  c.log_y = true;
  std::vector<std::string> frozen;
  for (size_t k = 0; k < run.stages.size(); ++k) {
    svg::Series s{run.stages[k], {}, {}, stage_color(k, run.stages.size())};
    bool any = false;
    for (const StepRow& st : run.steps) {
      s.x.push_back(static_cast<double>(st.step)), s.y.push_back(st.lr[k]);
      any |= st.lr[k] > 0;
    }
    if (!any && !run.steps.empty()) frozen.push_back(run.stages[k]), s.name += " (lr 0)";
    c.series.push_back(std::move(s));
  }
  // Schedules end near 0 (cosine): show three decades below the peak, not the last tiny values.
  double peak = 0;
  for (const StepRow& st : run.steps)
    for (double v : st.lr)
      if (std::isfinite(v)) peak = std::max(peak, v);
  if (peak > 0) {
    double low = peak;
    for (const StepRow& st : run.steps)
      for (double v : st.lr)
        if (v > 0) low = std::min(low, v);
    const svg::Scale s = svg::nice_log(std::max(low, peak * 1e-3), peak);
    c.y_range = std::make_pair(s.lo, s.hi);
  }
  c.x_marks = epoch_marks(run);
  const auto rows = table_rows(run.steps.size(), 200);
  html::Table t{{"step"}, {}, true, "learning rate" + rows_note(rows.size(), run.steps.size())};
  for (const auto& s : run.stages) t.header.push_back(s);
  for (size_t i : rows) {
    std::vector<std::string> row{std::to_string(run.steps[i].step)};
    for (double v : run.steps[i].lr) row.push_back(html::num("%.4g", v));
    t.rows.push_back(std::move(row));
  }
  std::string note = lr_note(run);
  if (!frozen.empty()) {
    note += " Not drawn (lr 0 throughout, frozen):";
    for (const auto& f : frozen) note += " " + f;
    note += ".";
  }
  return html::figure(svg::line_chart(c), "Learning rates as numbers", t, note);
}

std::optional<std::pair<double, double>> grad_log10_range(const std::vector<RunData>& runs) {
  std::vector<std::vector<double>> all;
  for (const RunData& r : runs)
    for (const EpochRow& e : r.epochs) all.push_back(e.grad_last), all.push_back(e.grad_mean);
  return svg::log10_range(all);
}

std::string grad_heatmaps(const RunData& run, std::optional<std::pair<double, double>> range) {
  svg::Heatmap last, mean;
  last.rows = mean.rows = run.stages;
  last.xlabel = mean.xlabel = "epoch";
  last.ylabel = mean.ylabel = "stage (input → head)";
  last.value_name = mean.value_name = "‖g‖₂";
  last.range = mean.range = range;
  last.title = "Gradient norm, last step of each epoch";
  mean.title = "Gradient norm, mean over each epoch";
  last.values.assign(run.stages.size(), {});
  mean.values.assign(run.stages.size(), {});
  html::Table t{{"stage"}, {}, true, "‖g‖₂ per stage: last step / mean over the epoch"};
  for (const EpochRow& e : run.epochs) {
    last.cols.push_back(std::to_string(e.epoch));
    t.header.push_back("epoch " + std::to_string(e.epoch));
    for (size_t k = 0; k < run.stages.size(); ++k)
      last.values[k].push_back(e.grad_last[k]), mean.values[k].push_back(e.grad_mean[k]);
  }
  mean.cols = last.cols;
  for (size_t k = 0; k < run.stages.size(); ++k) {
    std::vector<std::string> row{run.stages[k]};
    for (size_t c = 0; c < run.epochs.size(); ++c) row.push_back(html::num(last.values[k][c]) + " / " + html::num(mean.values[k][c]));
    t.rows.push_back(std::move(row));
  }
  for (svg::Heatmap* h : {&last, &mean}) h->layout.right = 110, h->layout.height = 300;
  return "<div class='pair'>" + svg::heatmap(last) + svg::heatmap(mean) + "</div>" +
         html::details("Gradient norms as numbers", html::table(t));
}

}  // namespace cxr::report
