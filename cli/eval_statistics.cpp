#include "cli/eval_statistics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "job/metrics_json.h"
#include "engine/auroc_per_class.h"
#include "engine/bootstrap.h"
#include "engine/calibration.h"
#include "engine/delong.h"
#include "core/errors.h"
#include "core/metrics.h"
#include "engine/precision_recall.h"

namespace cxr::cli {
namespace {

using nlohmann::json;

json interval_json(double lower, double upper) { return json::array({number_json(lower), number_json(upper)}); }

json proportion_json(const Proportion& p) {
  json j = {{"value", number_json(p.value)}, {"ci95", interval_json(p.lower, p.upper)},
            {"successes", p.successes}, {"trials", p.trials}};
  if (!p.defined()) j["note"] = p.reason;
  return j;
}

json bootstrap_json(const BootstrapInterval& b) {
  json j = {{"estimate", number_json(b.estimate)}, {"ci95", interval_json(b.lower, b.upper)},
            {"se", number_json(b.se)}, {"undefined_resamples", b.undefined}};
  if (!b.defined()) j["note"] = b.reason;
  return j;
}

// The samples at `idx` of one class's scores and labels, leaving out those whose label of the
// class is masked (`counted` false).
struct Subset {
  std::vector<double> s;
  std::vector<bool> y;
};
Subset take_counted(const std::vector<double>& s, const std::vector<bool>& y, const std::vector<bool>& counted,
                    std::span<const int64_t> idx) {
  Subset out;
  out.s.reserve(idx.size());
  out.y.reserve(idx.size());
  for (int64_t i : idx) {
    const auto n = static_cast<size_t>(i);
    if (counted[n]) out.s.push_back(s[n]), out.y.push_back(y[n]);
  }
  return out;
}

// The first label whose target is 1 (the class of a single-label sample); K for none.
int64_t first_positive(const std::vector<double>& t) {
  int64_t k = 0;
  while (k < static_cast<int64_t>(t.size()) && t[static_cast<size_t>(k)] <= 0.5) ++k;
  return k;
}

// Stratum of each sample: its class (single-label), or its first positive label (multi-label),
// so that resamples keep the class mix of the evaluated set.
std::vector<int64_t> strata_of(const ScoredSet& s) {
  std::vector<int64_t> strata;
  for (const auto& t : s.targets) strata.push_back(first_positive(t));
  return strata;
}

json calibration_json(const CalibrationSummary& c, const std::string& of) {
  json bins = json::array();
  for (const ReliabilityBin& b : c.bins)
    bins.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count},
                    {"mean_predicted", number_json(b.mean_predicted)},
                    {"observed_frequency", number_json(b.observed_frequency)}});
  return {{"brier", number_json(c.brier)}, {"ece", number_json(c.ece)}, {"ece_binning", c.binning},
          {"calibration_of", of}, {"reliability", bins}};
}

CalibrationSummary calibration_of(const ScoredSet& s, std::string& of) {
  const size_t K = s.classes.size();
  if (!s.multi_label && K == 2) {
    of = "probability of " + s.classes[1] + " (the positive class)";
    const ClassColumn positive_class = unmasked_class(s, 1);
    return calibration(positive_class.scores, positive_class.positives);
  }
  if (!s.multi_label) {
    of = "top-label confidence against correctness (Guo et al. 2017)";
    std::vector<double> flat;
    std::vector<int64_t> labels;
    for (size_t i = 0; i < s.probs.size(); ++i) {
      flat.insert(flat.end(), s.probs[i].begin(), s.probs[i].end());
      labels.push_back(first_positive(s.targets[i]));
    }
    return calibration_top_label(flat, labels, static_cast<int64_t>(K));
  }
  of = "every unmasked label's probability, pooled";
  std::vector<double> p;
  std::vector<bool> y;
  for (size_t i = 0; i < s.probs.size(); ++i)
    for (size_t k = 0; k < K; ++k)
      if (s.targets[i][k] >= 0) p.push_back(s.probs[i][k]), y.push_back(s.targets[i][k] > 0.5);
  return calibration(p, y);
}

json operating_point_json(const OperatingPointReport& r) {
  const OperatingPointStats& t = r.test;
  json j = {{"threshold", number_json(r.chosen.threshold)},
            {"val_sensitivity", number_json(r.chosen.val_sensitivity)},
            {"val_specificity", number_json(r.chosen.val_specificity)},
            {"achieved", number_json(r.test_achieved)},
            {"tp", t.tp}, {"fp", t.fp}, {"tn", t.tn}, {"fn", t.fn},
            {"sensitivity", proportion_json(t.sensitivity)}, {"specificity", proportion_json(t.specificity)},
            {"ppv", proportion_json(t.ppv)}, {"npv", proportion_json(t.npv)},
            {"f1", {{"value", number_json(t.f1)}, {"ci95", interval_json(t.f1_interval.lower, t.f1_interval.upper)}}}};
  // The target next to what validation and the evaluated data achieved.
  switch (r.chosen.choice.rule) {
    case ThresholdRule::Youden:
      j["target"] = "max Youden's J";
      j["val_achieved"] = number_json(r.chosen.val_sensitivity + r.chosen.val_specificity - 1);
      break;
    case ThresholdRule::TargetSensitivity:
      j["target"] = r.chosen.choice.target;
      j["val_achieved"] = number_json(r.chosen.val_sensitivity);
      break;
    case ThresholdRule::TargetSpecificity:
      j["target"] = r.chosen.choice.target;
      j["val_achieved"] = number_json(r.chosen.val_specificity);
      break;
  }
  return j;
}

// Bootstrap of a proportion at a fixed threshold: `pick` maps (tp, fp, tn, fn) to the value.
template <typename Pick>
BootstrapInterval threshold_bootstrap(const std::vector<double>& s, const std::vector<bool>& y, double threshold,
                                      uint64_t seed, const BootstrapOptions& b, Pick pick) {
  return bootstrap_interval(
      s, y,
      [threshold, pick](const std::vector<double>& ss, const std::vector<bool>& yy) {
        const OperatingPoint p = operating_point(ss, yy, threshold);
        return pick(static_cast<double>(p.tp), static_cast<double>(p.fp), static_cast<double>(p.tn),
                    static_cast<double>(p.fn));
      },
      seed, b);
}

double ratio(double a, double b) { return b > 0 ? a / b : std::nan(""); }

bool any_masked(const std::vector<std::vector<bool>>& counted) {
  for (const auto& c : counted)
    if (std::find(c.begin(), c.end(), false) != c.end()) return true;
  return false;
}

}  // namespace

ThresholdChoice parse_operating_point(const std::string& spec) {
  if (spec == "youden") return {};
  const size_t eq = spec.find('=');
  const std::string name = spec.substr(0, eq);
  ThresholdChoice c;
  if (eq == std::string::npos || (name != "sensitivity" && name != "specificity"))
    throw UsageError("--operating-point " + spec + ": give youden, sensitivity=T or specificity=T (e.g. sensitivity=0.95)");
  c.rule = name == "sensitivity" ? ThresholdRule::TargetSensitivity : ThresholdRule::TargetSpecificity;
  try {
    size_t used = 0;
    c.target = std::stod(spec.substr(eq + 1), &used);
    if (used != spec.size() - eq - 1) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw UsageError("--operating-point " + spec + ": the target is not a number");
  }
  if (!(c.target > 0 && c.target <= 1)) throw UsageError("--operating-point " + spec + ": the target must be in (0, 1]");
  return c;
}

std::vector<double> class_scores(const ScoredSet& s, size_t k) {
  std::vector<double> out;
  out.reserve(s.probs.size());
  for (const auto& p : s.probs) out.push_back(p.at(k));
  return out;
}

std::vector<bool> class_positives(const ScoredSet& s, size_t k) {
  std::vector<bool> out;
  out.reserve(s.targets.size());
  for (const auto& t : s.targets) out.push_back(t.at(k) > 0.5);
  return out;
}

ClassColumn unmasked_class(const ScoredSet& s, size_t k) {
  ClassColumn c;
  for (size_t i = 0; i < s.targets.size(); ++i) {
    const double t = s.targets[i].at(k);
    if (t < 0) continue;
    c.scores.push_back(s.probs.at(i).at(k));
    c.positives.push_back(t > 0.5);
  }
  return c;
}

std::vector<size_t> reported_classes(const ScoredSet& s) {
  if (!s.multi_label && s.classes.size() == 2) return {1};
  std::vector<size_t> all(s.classes.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = k;
  return all;
}

void add_statistics(json& m, const ScoredSet& test, const std::optional<ScoredSet>& val, const StatsOptions& o) {
  const size_t K = test.classes.size();
  const bool binary = !test.multi_label && K == 2;
  // Index-aligned columns (every sample) for the macro figures, which need the same images for
  // every class, with `counted` marking each class's unmasked samples; `unmasked` holds only those
  // samples, which every per-class figure uses (a masked label is neither positive nor negative).
  std::vector<std::vector<double>> scores(K);
  std::vector<std::vector<bool>> pos(K), counted(K);
  std::vector<ClassColumn> unmasked(K);
  for (size_t k = 0; k < K; ++k) {
    scores[k] = class_scores(test, k), pos[k] = class_positives(test, k);
    for (const auto& t : test.targets) counted[k].push_back(t.at(k) >= 0);
    unmasked[k] = unmasked_class(test, k);
  }

  // DeLong: per class, and the macro with the classes' covariance (auroc_per_class.h).
  const PerClassAuroc delong = auroc_per_class(scores, pos, 0.95, counted);
  const AurocInterval& headline = binary ? delong.classes[1] : delong.macro;
  m["auroc_ci95"] = interval_json(headline.lower, headline.upper);
  m["auroc_se"] = number_json(headline.se);
  m["auroc_ci_method"] = binary ? headline.method + " (the positive class, " + test.classes[1] + ")"
                                : headline.method + "; macro: covariance across classes (Hájek projection)" +
                                      (any_masked(counted) ? "; each class on its unmasked samples" : "");
  if (!headline.defined()) m["auroc_ci95_note"] = headline.reason;

  for (size_t k = 0; k < K; ++k) {
    json& c = m["per_class"][test.classes[k]];
    const AurocInterval& a = delong.classes[k];
    c["auroc_ci95"] = interval_json(a.lower, a.upper);
    c["auroc_se"] = number_json(a.se);
    if (!a.defined()) c["auroc_ci95_note"] = a.reason;
    const AveragePrecision ap = average_precision(unmasked[k].scores, unmasked[k].positives);
    c["average_precision"] = number_json(ap.value);
    c["prevalence"] = number_json(ap.prevalence);
    if (!ap.defined()) c["average_precision_note"] = ap.reason;
    const PrCurve pr = pr_curve(unmasked[k].scores, unmasked[k].positives);
    json th = json::array();
    for (double t : pr.thresholds) th.push_back(number_json(t));  // the first is +inf: null
    c["pr_curve"] = {{"recall", json::array()}, {"precision", json::array()}, {"thresholds", th}};
    for (size_t i = 0; i < pr.recall.size(); ++i) {
      c["pr_curve"]["recall"].push_back(number_json(pr.recall[i]));
      c["pr_curve"]["precision"].push_back(number_json(pr.precision[i]));
    }
  }
  m["average_precision_method"] = AveragePrecision{}.method;

  std::string of;
  const CalibrationSummary cal = calibration_of(test, of);
  m.update(calibration_json(cal, of));

  // Operating points: chosen on validation, applied unchanged to the evaluated data.
  const BootstrapOptions boot{std::max<int64_t>(o.bootstrap, 1), 0.95};
  std::map<size_t, OperatingPointReport> ops;
  if (!val) {
    m["operating_point"] = nullptr;
    m["operating_point_note"] =
        "no val_predictions.json in the checkpoint's run directory: no validation set to choose a threshold on";
  } else {
    json op = {{"rule", to_string(o.operating_point.rule)},
               {"target", number_json(o.operating_point.target)},
               {"chosen_on", "val_predictions.json (the run's best validation epoch, " +
                                 std::to_string(val->probs.size()) + " images)"},
               {"applied_to", "the evaluated data"},
               {"intervals", "Wilson score (sensitivity, specificity, PPV, NPV); F1: stratified percentile bootstrap"},
               {"per_class", json::object()}};
    for (size_t k : reported_classes(test)) {
      const ClassColumn chosen_on = unmasked_class(*val, k), applied_to = unmasked_class(test, k);
      ops[k] = validate_then_test(chosen_on.scores, chosen_on.positives, applied_to.scores, applied_to.positives,
                                  o.operating_point, o.seed, boot);
      json pj = operating_point_json(ops[k]);
      if (o.bootstrap == 0) pj["f1"]["ci95"] = interval_json(NAN, NAN), pj["f1"]["note"] = "bootstrap off (--bootstrap 0)";
      op["per_class"][test.classes[k]] = pj;
    }
    if (binary) op["positive_class"] = test.classes[1];
    m["operating_point"] = op;
  }

  if (o.bootstrap == 0) {
    m["bootstrap"] = nullptr;
    return;
  }
  json b = {{"resamples", o.bootstrap}, {"seed", o.seed}, {"level", 0.95},
            {"method", "stratified percentile bootstrap (type-7 quantiles), strata: class; per-class figures resample "
                 "that class's unmasked samples, the macro AUROC resamples images and scores each class on the "
                 "drawn images whose label is not masked"},
            {"per_class", json::object()}};
  for (size_t k = 0; k < K; ++k) {
    const ClassColumn& u = unmasked[k];
    json c = {{"auroc", bootstrap_json(bootstrap_interval(u.scores, u.positives, auroc, o.seed, boot))},
              {"average_precision",
               bootstrap_json(bootstrap_interval(
                   u.scores, u.positives, [](const auto& s, const auto& y) { return average_precision(s, y).value; },
                   o.seed, boot))}};
    if (ops.count(k)) {
      const double t = ops[k].chosen.threshold;
      auto tb = [&](auto pick) { return bootstrap_json(threshold_bootstrap(u.scores, u.positives, t, o.seed, boot, pick)); };
      c["operating_point"] = {
          {"sensitivity", tb([](double tp, double, double, double fn) { return ratio(tp, tp + fn); })},
          {"specificity", tb([](double, double fp, double tn, double) { return ratio(tn, tn + fp); })},
          {"ppv", tb([](double tp, double fp, double, double) { return ratio(tp, tp + fp); })},
          {"npv", tb([](double, double, double tn, double fn) { return ratio(tn, tn + fn); })},
          {"f1", bootstrap_json(ops[k].test.f1_interval)}};
    }
    b["per_class"][test.classes[k]] = c;
  }
  if (!binary) {
    // The macro AUROC over the classes defined on each resample, as metrics.h averages them:
    // images are resampled (so classes keep their correlation), and each class is scored on the
    // drawn images whose label of that class is not masked.
    const auto strata = strata_of(test);
    b["macro_auroc"] = bootstrap_json(bootstrap_interval(
        strata,
        [&](std::span<const int64_t> idx) {
          double sum = 0;
          int n = 0;
          for (size_t k = 0; k < K; ++k) {
            const Subset sub = take_counted(scores[k], pos[k], counted[k], idx);
            const double a = auroc(sub.s, sub.y);
            if (std::isfinite(a)) sum += a, ++n;
          }
          return n ? sum / n : std::nan("");
        },
        o.seed, boot));
  } else {
    b["macro_auroc"] = b["per_class"][test.classes[1]]["auroc"];
  }
  m["bootstrap"] = b;
}

}  // namespace cxr::cli
