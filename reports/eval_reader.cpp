#include "reports/eval_reader.h"

#include <cmath>

namespace cxr::report {
namespace {

using nlohmann::json;

double number(const json& j, const char* key) {
  if (!j.is_object()) return std::nan("");
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

// [low, high] with null for an undefined bound.
void read_pair(const json& j, double& lower, double& upper) {
  if (!j.is_array() || j.size() != 2) return;
  lower = j[0].is_number() ? j[0].get<double>() : std::nan("");
  upper = j[1].is_number() ? j[1].get<double>() : std::nan("");
}

ValueCi value_ci(const json& j) {
  ValueCi v;
  if (!j.is_object()) return v;
  v.value = number(j, "value");
  if (j.contains("ci95")) read_pair(j["ci95"], v.lower, v.upper);
  return v;
}

std::vector<double> numbers(const json& j) {
  std::vector<double> out;
  if (j.is_array())
    for (const json& v : j) out.push_back(v.is_number() ? v.get<double>() : std::nan(""));
  return out;
}

std::string text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

void read_eval_statistics(const json& m, EvalSummary& e) {
  e.auroc_ci.value = e.auroc;
  if (m.contains("auroc_ci95")) read_pair(m["auroc_ci95"], e.auroc_ci.lower, e.auroc_ci.upper);
  e.auroc_ci_method = text(m, "auroc_ci_method");
  const json per_class = m.value("per_class", json::object());
  for (ClassMetricsRow& c : e.per_class) {
    const json& pc = per_class.contains(c.name) ? per_class[c.name] : json();
    if (!pc.is_object()) continue;
    if (pc.contains("auroc_ci95")) read_pair(pc["auroc_ci95"], c.auroc_lower, c.auroc_upper);
    if (!pc.contains("pr_curve") || !pc["pr_curve"].is_object()) continue;
    PrCurveRow pr{c.name, number(pc, "average_precision"), numbers(pc["pr_curve"].value("recall", json())),
                  numbers(pc["pr_curve"].value("precision", json())),
                  numbers(pc["pr_curve"].value("thresholds", json()))};
    const size_t n = std::min(pr.recall.size(), pr.precision.size());
    pr.recall.resize(n), pr.precision.resize(n), pr.thresholds.resize(n, std::nan(""));
    e.pr_curves.push_back(std::move(pr));
  }
  e.brier = number(m, "brier");
  e.ece = number(m, "ece");
  e.ece_binning = text(m, "ece_binning");
  e.calibration_of = text(m, "calibration_of");
  if (m.contains("reliability") && m["reliability"].is_array())
    for (const json& b : m["reliability"]) {
      if (!b.is_object()) continue;
      e.reliability.push_back({number(b, "lower"), number(b, "upper"), number(b, "mean_predicted"),
                               number(b, "observed_frequency"), b.value("count", int64_t{0})});
    }
  const json op = m.value("operating_point", json());
  if (!op.is_object()) return;
  e.operating_rule = text(op, "rule");
  e.operating_chosen_on = text(op, "chosen_on");
  const json classes = op.value("per_class", json::object());
  for (auto it = classes.begin(); it != classes.end(); ++it) {
    const json& c = *it;
    if (!c.is_object()) continue;
    OperatingPointRow r;
    r.name = it.key();
    const json target = c.value("target", json());
    r.target = target.is_string() ? target.get<std::string>() : target.is_number() ? target.dump() : "–";
    r.threshold = number(c, "threshold"), r.val_achieved = number(c, "val_achieved"), r.achieved = number(c, "achieved");
    r.tp = c.value("tp", int64_t{0}), r.fp = c.value("fp", int64_t{0}), r.tn = c.value("tn", int64_t{0}),
    r.fn = c.value("fn", int64_t{0});
    r.sensitivity = value_ci(c.value("sensitivity", json())), r.specificity = value_ci(c.value("specificity", json()));
    r.ppv = value_ci(c.value("ppv", json())), r.npv = value_ci(c.value("npv", json()));
    r.f1 = value_ci(c.value("f1", json()));
    e.operating_points.push_back(std::move(r));
  }
}

}  // namespace cxr::report
