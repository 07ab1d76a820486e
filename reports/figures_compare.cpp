// Figures and texts across runs: what moved (weight change), what pushed it (first-batch
// gradient norms), the loss of several runs overlaid, the summary table and the narrative.
#include <algorithm>
#include <cmath>
#include <map>

#include "reports/figures.h"
#include "reports/health.h"
#include "reports/html.h"
#include "reports/svg_chart.h"

namespace cxr::report {
namespace {

std::string env_value(const RunData& r, const std::string& key) {
  for (const auto& [k, v] : r.environment)
    if (k == key) return v;
  return "–";
}

double first_grad(const RunData& r, const std::string& stage) {
  const int k = r.stage_index(stage);
  return r.steps.empty() || k < 0 ? std::nan("") : r.steps.front().grad[static_cast<size_t>(k)];
}

double change_of(const RunData& r, const std::string& stage) {
  const auto it = r.weight_change.find(stage);
  return it == r.weight_change.end() ? std::nan("") : it->second;
}

// What the first step's gradient norms of one run show, computed from them: which stages got
// none, and whether the norm grows towards the head or where it is largest and smallest.
std::string first_batch_note(const RunData& r, bool named) {
  std::string out = named ? r.name + ": " : "";
  if (r.steps.empty()) return out + "no step records.";
  std::vector<std::string> none;
  std::vector<size_t> got;
  for (size_t k = 0; k < r.stages.size(); ++k) {
    const double g = r.steps.front().grad[k];
    if (std::isfinite(g) && g > 0) got.push_back(k);
    else none.push_back(r.stages[k]);
  }
  if (none.empty()) {
    out += "every stage received a gradient at step 0";
  } else {
    out += "no gradient at step 0 in";
    for (const auto& n : none) out += " " + n;
    if (got.empty()) return out + ".";
  }
  const auto g = [&](size_t i) { return r.steps.front().grad[got[i]]; };
  bool rising = got.size() > 1;
  size_t lo = 0, hi = 0;
  for (size_t i = 1; i < got.size(); ++i) {
    rising &= g(i) > g(i - 1);
    if (g(i) < g(lo)) lo = i;
    if (g(i) > g(hi)) hi = i;
  }
  const std::string ratio = html::num("%.3g", g(hi) / g(lo));
  if (rising)
    out += "; the norm grows at every stage from " + r.stages[got.front()] + " to " + r.stages[got.back()] + " (" + ratio + "×)";
  else if (got.size() > 1)
    out += "; largest in " + r.stages[got[hi]] + ", smallest in " + r.stages[got[lo]] + " (" + ratio + "× apart)";
  return out + ".";
}

svg::BarChart stage_bars(const std::vector<RunData>& runs, const std::vector<std::string>& stages) {
  svg::BarChart c;
  c.categories = stages;
  c.xlabel = "stage (input side → head)";
  c.layout.right = runs.size() > 1 ? 150 : 20;
  return c;
}

// Sensitivity and specificity on test at the threshold eval chose on validation (per class).
std::string operating_point_text(const EvalSummary& e) {
  std::string out;
  for (const OperatingPointRow& op : e.operating_points)
    out += (out.empty() ? "" : "; ") + (e.operating_points.size() > 1 ? op.name + ": " : "") + "sensitivity " +
           html::num("%.3f", op.sensitivity.value) + ", specificity " + html::num("%.3f", op.specificity.value) +
           " (p ≥ " + html::num("%.3g", op.threshold) + ")";
  return out.empty() ? "–" : out;
}

// Where a run's weights moved most and least, and whether the change grows towards the head.
std::string change_profile(const RunData& r) {
  std::vector<std::string> moved;
  for (const auto& s : r.stages)
    if (std::isfinite(change_of(r, s)) && change_of(r, s) > 0) moved.push_back(s);
  if (moved.size() < 2) return "";
  size_t lo = 0, hi = 0;
  bool rising = true;
  for (size_t i = 1; i < moved.size(); ++i) {
    rising &= change_of(r, moved[i]) > change_of(r, moved[i - 1]);
    if (change_of(r, moved[i]) < change_of(r, moved[lo])) lo = i;
    if (change_of(r, moved[i]) > change_of(r, moved[hi])) hi = i;
  }
  if (rising) return " The relative weight change grows at every stage from " + moved.front() + " to " + moved.back() + ".";
  return " The relative weight change is largest in " + moved[hi] + " and smallest in " + moved[lo] + ".";
}

// The first-batch gradient norms of run `b` against run `a`, stage by stage, as ratios.
std::string gradient_contrast(const RunData& a, const RunData& b) {
  std::string ratios, tenfold_smaller, tenfold_larger;
  for (const auto& s : a.stages) {
    const double ga = first_grad(a, s), gb = first_grad(b, s);
    if (!(std::isfinite(ga) && std::isfinite(gb) && ga > 0 && gb > 0)) continue;
    const double f = ga / gb;
    const bool smaller = f < 1;
    const double x = smaller ? 1 / f : f;
    ratios += (ratios.empty() ? "" : ", ") + s + " " + html::num(x >= 10 ? "%.0f" : "%.1f", x) + "× " +
              (smaller ? "smaller" : "larger");
    if (x >= 10) {
      std::string& list = smaller ? tenfold_smaller : tenfold_larger;
      list += (list.empty() ? "" : ", ") + s;
    }
  }
  if (ratios.empty()) return "";
  std::string out = "On the first batch, " + a.name + "'s gradient norms against " + b.name + "'s: " + ratios + ".";
  if (!tenfold_smaller.empty()) out += " An order of magnitude or more smaller in " + tenfold_smaller + ".";
  if (!tenfold_larger.empty()) out += " An order of magnitude or more larger in " + tenfold_larger + ".";
  if (tenfold_smaller.empty() && tenfold_larger.empty()) out += " No stage differs by an order of magnitude.";
  return out;
}

}  // namespace

std::vector<std::string> all_stages(const std::vector<RunData>& runs) {
  std::vector<std::string> out;
  for (const RunData& r : runs)
    for (const auto& s : r.stages)
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  return out;
}

std::string summary_table(const std::vector<RunData>& runs, const std::vector<std::vector<Finding>>& health) {
  bool any_eval = false;
  for (const RunData& r : runs) any_eval |= r.eval.present;
  html::Table t{{"run", "model", "weights", "backend", "steps", "epochs", "last val loss", "best val AUROC"},
                {},
                true,
                any_eval ? "test: the held-out evaluation in eval/metrics.json (cxrtune eval)" : "",
                "text"};
  bool any_op = false;
  for (const RunData& r : runs) any_op |= !r.eval.operating_points.empty();
  if (any_eval) t.header.insert(t.header.end(), {"test images", "test accuracy", "test AUROC"});
  if (any_op) t.header.push_back("test at the validation operating point");
  t.header.push_back("health findings");
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunData& r = runs[i];
    double best = std::nan("");
    int64_t best_epoch = -1;
    double last_loss = std::nan("");
    for (const EpochRow& e : r.epochs) {
      if (e.has_val) last_loss = e.val_loss;
      if (std::isfinite(e.val_auroc) && !(e.val_auroc <= best)) best = e.val_auroc, best_epoch = e.epoch;
    }
    size_t warnings = 0;
    for (const Finding& f : health[i]) warnings += f.kind != "frozen";
    std::vector<std::string> row{r.name, env_value(r, "arch"), env_value(r, "weights"), env_value(r, "backend"),
                                 std::to_string(r.steps.size()), std::to_string(r.epochs.size()), html::num("%.4f", last_loss),
                                 std::isfinite(best) ? html::num("%.4f", best) + " (epoch " + std::to_string(best_epoch) + ")" : "–"};
    if (any_eval) {
      if (r.eval.present)
        row.insert(row.end(), {std::to_string(r.eval.count), html::num("%.4f", r.eval.accuracy), test_auroc_text(r.eval)});
      else
        row.insert(row.end(), {"–", "–", "–"});
    }
    if (any_op) row.push_back(operating_point_text(r.eval));
    row.push_back(warnings ? std::to_string(warnings) + " warning" + (warnings > 1 ? "s" : "") : "none");
    t.rows.push_back(std::move(row));
  }
  return html::table(t);
}

std::string story(const std::vector<RunData>& runs) {
  std::string out;
  for (const RunData& r : runs) {
    if (r.weight_change.empty() || r.stages.size() < 2) continue;
    const std::string& head = r.stages.back();
    std::string first;  // the first stage that moved at all
    std::vector<std::string> frozen;
    for (const auto& s : r.stages) {
      const double v = change_of(r, s);
      if (v == 0) frozen.push_back(s);
      else if (first.empty() && std::isfinite(v) && s != head) first = s;
    }
    std::string line = "<li><b>" + html::escape(r.name) + "</b>: ";
    if (!first.empty()) {
      const double a = change_of(r, first), b = change_of(r, head);
      line += html::escape(first) + " moved " + html::escape(html::percent(a)) + ", " + html::escape(head) + " " +
              html::escape(html::percent(b));
      if (a > 0 && b > 0) line += " — " + html::escape(html::num(b / a >= 10 ? "%.0f" : "%.1f", b / a)) + "× more";
      const double ga = first_grad(r, first), gb = first_grad(r, head);
      if (std::isfinite(ga) && std::isfinite(gb))
        line += "; on the first batch their gradient norms were " + html::escape(html::num(ga)) + " and " +
                html::escape(html::num(gb));
      line += ".";
    }
    line += html::escape(change_profile(r));
    if (!frozen.empty()) {
      line += " Frozen (weight change 0):";
      for (const auto& f : frozen) line.append(" ").append(html::escape(f));
      line += ".";
    }
    out += line + "</li>";
  }
  for (size_t i = 1; i < runs.size(); ++i) {
    const std::string c = gradient_contrast(runs[0], runs[i]);
    if (!c.empty()) out += "<li>" + html::escape(c) + "</li>";
  }
  return out.empty() ? "" : "<ul class='story'>" + out + "</ul>";
}

std::string weight_change_figure(const std::vector<RunData>& runs) {
  const auto stages = all_stages(runs);
  svg::BarChart c = stage_bars(runs, stages);
  c.title = "Relative weight change per stage";
  c.ylabel = "‖W_final − W_init‖ / ‖W_init‖, % (log)";
  c.label = [](double v) { return html::num(v >= 0.1 ? "%.2f" : "%.2g", v) + " %"; };
  html::Table t{{"run"}, {}, true, "relative weight change, percent"};
  for (const auto& s : stages) t.header.push_back(s);
  for (size_t i = 0; i < runs.size(); ++i) {
    svg::BarGroup g{runs[i].name, {}, run_color(i)};
    std::vector<std::string> row{runs[i].name};
    for (const auto& s : stages) {
      g.values.push_back(100 * change_of(runs[i], s));
      row.push_back(html::percent(change_of(runs[i], s)));
    }
    c.groups.push_back(std::move(g));
    t.rows.push_back(std::move(row));
  }
  return html::figure(svg::bar_chart(c), "Weight change as numbers", t,
                      "How far each stage's weights moved from where they started. Frozen stages show 0.");
}

std::string first_batch_figure(const std::vector<RunData>& runs) {
  const auto stages = all_stages(runs);
  svg::BarChart c = stage_bars(runs, stages);
  c.title = "Gradient norm per stage, first batch";
  c.ylabel = "‖g‖₂ at step 0 (log)";
  c.label = [](double v) { return html::num("%.3g", v); };
  html::Table t{{"run"}, {}, true, "L2 norm of the stage's gradient at step 0"};
  for (const auto& s : stages) t.header.push_back(s);
  for (size_t i = 0; i < runs.size(); ++i) {
    svg::BarGroup g{runs[i].name, {}, run_color(i)};
    std::vector<std::string> row{runs[i].name};
    for (const auto& s : stages) g.values.push_back(first_grad(runs[i], s)), row.push_back(html::num(first_grad(runs[i], s)));
    c.groups.push_back(std::move(g));
    t.rows.push_back(std::move(row));
  }
  std::string note;
  for (const RunData& r : runs) note += (note.empty() ? "" : " ") + first_batch_note(r, runs.size() > 1);
  return html::figure(svg::bar_chart(c), "First-batch gradient norms as numbers", t, note);
}

std::string loss_overlay_figure(const std::vector<RunData>& runs) {
  svg::LineChart c;
  c.title = "Loss of all runs (train: smoothed per step; val: per epoch)";
  c.xlabel = "optimizer step";
  c.ylabel = "loss";
  c.include_zero = true;
  html::Table t{{"run", "epoch", "train loss", "val loss", "val AUROC"}, {}, true, "per epoch"};
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunData& r = runs[i];
    svg::Series train{r.name + " train", {}, {}, run_color(i), false, false, 2.0};
    std::vector<double> loss;
    std::map<int64_t, double> end;
    for (const StepRow& s : r.steps) {
      train.x.push_back(static_cast<double>(s.step)), loss.push_back(s.loss);
      end[s.epoch] = static_cast<double>(s.step);
    }
    train.y = smoothed(loss, smoothing_span(loss.size()));
    svg::Series val{r.name + " val", {}, {}, run_color(i), true, true, 1.6};
    for (const EpochRow& e : r.epochs) {
      if (e.has_val && end.count(e.epoch)) val.x.push_back(end[e.epoch]), val.y.push_back(e.val_loss);
      t.rows.push_back({r.name, std::to_string(e.epoch), html::num("%.4f", e.train_loss), html::num("%.4f", e.val_loss),
                        html::num("%.4f", e.val_auroc)});
    }
    c.series.push_back(std::move(train));
    if (!val.x.empty()) c.series.push_back(std::move(val));
  }
  c.layout.right = 190;
  return html::figure(svg::line_chart(c), "Loss of all runs as numbers", t);
}

}  // namespace cxr::report
