// Validation findings: a validation loss that is non-finite or diverges, and accuracy that
// falls back to chance (health.h has the rules). They go with the gradient findings, so a run
// whose validation loss rose to 1e26 never gets the page's green check.
#include <algorithm>
#include <cmath>

#include "reports/health.h"
#include "reports/html.h"

namespace cxr::report {
namespace {

// Majority share from per-class counts; NaN without counts.
double majority_share(const std::vector<int64_t>& counts) {
  int64_t total = 0, most = 0;
  for (int64_t c : counts) total += c, most = std::max(most, c);
  return total > 0 ? static_cast<double>(most) / static_cast<double>(total) : std::nan("");
}

const EpochRow* last_validated(const RunData& run) {
  const EpochRow* last = nullptr;
  for (const EpochRow& e : run.epochs)
    if (e.has_val) last = &e;
  return last;
}

Finding epoch_finding(const char* kind, const char* series, int64_t epoch, double value, double reference) {
  Finding f;
  f.kind = kind, f.series = series, f.first_step = epoch, f.count = 1, f.value = value, f.reference = reference;
  f.steps = {epoch};
  return f;
}

}  // namespace

double chance_accuracy(const RunData& run) {
  if (!run.predictions.scores.empty() && !run.predictions.single_label) return std::nan("");
  const EpochRow* last = last_validated(run);
  if (last && !last->confusion.empty()) {
    std::vector<int64_t> rows;
    for (const auto& row : last->confusion) {
      int64_t n = 0;
      for (int64_t v : row) n += v;
      rows.push_back(n);
    }
    return majority_share(rows);
  }
  if (!run.predictions.targets.empty()) {
    std::vector<int64_t> counts(run.predictions.classes.size(), 0);
    for (const auto& t : run.predictions.targets)
      for (size_t k = 0; k < t.size() && k < counts.size(); ++k) counts[k] += t[k] > 0.5;
    return majority_share(counts);
  }
  for (const auto& [split, counts] : run.counts)
    if (split == "val") return majority_share(counts);
  return std::nan("");
}

std::vector<Finding> validation_health(const RunData& run, const ValidationThresholds& t) {
  std::vector<Finding> out;
  Finding bad;
  bad.kind = "non_finite", bad.series = "val_loss";
  const EpochRow *lowest = nullptr, *last = nullptr;
  for (const EpochRow& e : run.epochs) {
    if (!e.has_val) continue;
    if (!std::isfinite(e.val_loss)) {
      if (bad.count++ == 0) bad.first_step = e.epoch;
      if (bad.steps.size() < 10) bad.steps.push_back(e.epoch);
      continue;
    }
    if (!lowest || e.val_loss < lowest->val_loss) lowest = &e;
    last = &e;
  }
  if (bad.count) {
    bad.value = std::nan("");
    bad.message = "non-finite validation loss at epoch " + std::to_string(bad.first_step) +
                  (bad.count > 1 ? " (" + std::to_string(bad.count) + " epochs in all)" : "");
    out.push_back(bad);
  }
  if (last && lowest && lowest != last && lowest->val_loss > 0 && last->val_loss > t.loss_rise * lowest->val_loss) {
    Finding f = epoch_finding("diverging", "val_loss", last->epoch, last->val_loss, lowest->val_loss);
    const double ratio = last->val_loss / lowest->val_loss;
    f.message = "validation loss diverged: " + html::num(last->val_loss) + " at epoch " + std::to_string(last->epoch) + " is " +
                (ratio >= 1e4 ? html::num(ratio) : html::num("%.1f", ratio)) + " × its minimum " +
                html::num(lowest->val_loss) + " (epoch " + std::to_string(lowest->epoch) + ")";
    out.push_back(f);
  }
  const double chance = chance_accuracy(run);
  const EpochRow* final_epoch = last_validated(run);
  if (std::isfinite(chance) && final_epoch && std::isfinite(final_epoch->val_accuracy) &&
      final_epoch->val_accuracy <= chance + t.chance_margin) {
    const EpochRow* best = nullptr;
    for (const EpochRow& e : run.epochs)
      if (&e != final_epoch && e.has_val && std::isfinite(e.val_accuracy) && (!best || e.val_accuracy > best->val_accuracy))
        best = &e;
    if (best && best->val_accuracy >= chance + t.learned_margin) {
      Finding f = epoch_finding("chance", "val_accuracy", final_epoch->epoch, final_epoch->val_accuracy, chance);
      f.message = "validation accuracy fell to chance: " + html::num("%.3f", final_epoch->val_accuracy) + " at epoch " +
                  std::to_string(final_epoch->epoch) + " (always predicting the majority class scores " +
                  html::num("%.3f", chance) + "), after " + html::num("%.3f", best->val_accuracy) + " at epoch " +
                  std::to_string(best->epoch);
      out.push_back(f);
    }
  }
  return out;
}

std::vector<Finding> run_health(const RunData& run) {
  std::vector<Finding> all = gradient_health(run);
  for (Finding& f : validation_health(run)) all.push_back(std::move(f));
  return all;
}

}  // namespace cxr::report
