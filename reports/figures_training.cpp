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
  c.ylabel = "loss (mean cross-entropy)";
  c.series = {raw, ema, train};
  if (!val.x.empty()) c.series.push_back(val);
  c.include_zero = true;
  c.x_marks = epoch_marks(run);
  const auto rows = table_rows(run.steps.size(), 200);
  html::Table steps{{"step", "epoch", "loss", "EMA"}, {}, true, "per step" + rows_note(rows.size(), run.steps.size())};
  for (size_t i : rows)
    steps.rows.push_back({std::to_string(run.steps[i].step), std::to_string(run.steps[i].epoch),
                          html::num("%.5f", run.steps[i].loss), html::num("%.5f", ema.y[i])});
  return "<figure>" + svg::line_chart(c) +
         "<figcaption>Light: each step's batch loss; dark: its exponential moving average (span " +
         html::num("%.0f", span) + " steps); dots: epoch values; dotted lines: epoch ends.</figcaption>" +
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
  std::string note = "Layer-wise rates: the head (fc) learns fastest, stages nearer the input slower.";
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
