#include "reports/health.h"

#include <algorithm>
#include <cmath>

#include "reports/html.h"

namespace cxr::report {
namespace {

// Accumulates occurrences of one (kind, series) and keeps the worst one.
struct Tally {
  Finding f;
  bool worse_is_higher = true;
  void hit(int64_t step, double value, double reference) {
    if (f.count == 0) f.first_step = step;
    ++f.count;
    if (f.steps.size() < 10) f.steps.push_back(step);
    const double ratio = reference > 0 ? value / reference : value;
    const double old = f.reference > 0 ? f.value / f.reference : f.value;
    if (f.count == 1 || (worse_is_higher ? ratio > old : ratio < old)) f.value = value, f.reference = reference;
  }
};

std::string steps_text(const Finding& f) {
  std::string s = "at step " + std::to_string(f.first_step);
  if (f.count > 1) s += " (" + std::to_string(f.count) + " steps in all)";
  return s;
}

// The last `window` finite values of one series. Spike test without sorting: g exceeds
// ratio × median exactly when more than half of the window lies below g / ratio; the median
// itself is computed only for the (rare) spikes, for the message.
class RunningWindow {
 public:
  explicit RunningWindow(size_t window) : values_(window) {}
  size_t size() const { return count_; }
  bool exceeds(double g, double ratio) const {
    const double bound = g / ratio;
    size_t below = 0;
    for (size_t i = 0; i < count_; ++i) below += values_[i] < bound;
    return below >= count_ / 2 + 1;  // the median is the sorted value at index count_ / 2
  }
  double median() const {
    std::vector<double> v(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(count_));
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
  }
  void push(double v) {
    values_[next_] = v;
    next_ = (next_ + 1) % values_.size();
    count_ = std::min(count_ + 1, values_.size());
  }

 private:
  std::vector<double> values_;
  size_t next_ = 0, count_ = 0;
};

}  // namespace

std::vector<Finding> gradient_health(const RunData& run, const HealthThresholds& t) {
  const size_t n = run.stages.size();
  const int head = run.stage_index("fc") >= 0 ? run.stage_index("fc") : static_cast<int>(n) - 1;
  // Series 0..n-1 are the stages, n is the total.
  std::vector<Tally> non_finite(n + 1), spike(n + 1), vanishing(n), frozen(n);
  Tally bad_loss;
  std::vector<RunningWindow> windows(n + 1, RunningWindow(t.median_window));
  for (Tally& v : vanishing) v.worse_is_higher = false;
  auto frozen_by_change = [&](size_t k) {
    const auto it = run.weight_change.find(run.stages[k]);
    return it != run.weight_change.end() && it->second == 0;
  };
  for (const StepRow& s : run.steps) {
    if (!std::isfinite(s.loss)) bad_loss.hit(s.step, s.loss, 0);
    const double head_norm = head >= 0 ? s.grad[static_cast<size_t>(head)] : std::nan("");
    for (size_t k = 0; k <= n; ++k) {
      const double g = k < n ? s.grad[k] : s.grad_total;
      if (k < n && s.lr[k] == 0) frozen[k].hit(s.step, 0, 0);
      if (!std::isfinite(g)) {
        // The trainer writes null for NaN/Inf; a frozen stage may have no gradient at all.
        if (k == n || s.lr[k] != 0) non_finite[k].hit(s.step, g, 0);
        continue;
      }
      if (windows[k].size() >= t.min_history && windows[k].exceeds(g, t.spike_ratio)) {
        const double med = windows[k].median();
        if (med > 0) spike[k].hit(s.step, g, med);
      }
      windows[k].push(g);
      if (k < n && static_cast<int>(k) != head && s.lr[k] != 0 && !frozen_by_change(k) && std::isfinite(head_norm) &&
          head_norm > 0 && g < t.vanishing_ratio * head_norm)
        vanishing[k].hit(s.step, g, head_norm);
    }
  }
  std::vector<Finding> out;
  auto name = [&](size_t k) { return k < n ? run.stages[k] : std::string("total"); };
  if (bad_loss.f.count) {
    Finding f = bad_loss.f;
    f.kind = "non_finite", f.series = "loss";
    f.message = "non-finite loss " + steps_text(f);
    out.push_back(f);
  }
  for (size_t k = 0; k <= n; ++k)
    if (non_finite[k].f.count) {
      Finding f = non_finite[k].f;
      f.kind = "non_finite", f.series = name(k);
      f.message = "non-finite gradient norm in " + f.series + " " + steps_text(f);
      out.push_back(f);
    }
  for (size_t k = 0; k <= n; ++k)
    if (spike[k].f.count) {
      Finding f = spike[k].f;
      f.kind = "spike", f.series = name(k);
      f.message = "gradient spike in " + f.series + " " + steps_text(f) + "; worst " + html::num(f.value) + " = " +
                  html::num("%.1f", f.value / f.reference) + " × the running median " + html::num(f.reference);
      out.push_back(f);
    }
  for (size_t k = 0; k < n; ++k)
    if (vanishing[k].f.count) {
      Finding f = vanishing[k].f;
      f.kind = "vanishing", f.series = name(k);
      f.message = "vanishing gradient in " + f.series + " " + steps_text(f) + ": " + html::num(f.value) + " < 10⁻³ × fc's " +
                  html::num(f.reference);
      out.push_back(f);
    }
  for (size_t k = 0; k < n; ++k) {
    const bool by_change = frozen_by_change(k);
    if (!frozen[k].f.count && !by_change) continue;
    Finding f = frozen[k].f;
    f.kind = "frozen", f.series = name(k);
    if (f.count)
      f.message = "stage " + f.series + " is frozen: lr 0 from step " + std::to_string(f.first_step) + " (" +
                  std::to_string(f.count) + " of " + std::to_string(run.steps.size()) + " steps)";
    else
      f.message = "stage " + f.series + " is frozen";
    if (by_change) f.message += f.count ? ", weight change 0" : ": weight change 0 over the whole run";
    out.push_back(f);
  }
  return out;
}

}  // namespace cxr::report
