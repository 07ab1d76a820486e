#include "job/metrics_json.h"

#include <cmath>

namespace cxr {
namespace {

nlohmann::json operating_point(const OperatingPoint& p) {
  return {{"threshold", number_json(p.threshold)}, {"sensitivity", number_json(p.sensitivity)},
          {"specificity", number_json(p.specificity)}, {"tp", p.tp}, {"fp", p.fp}, {"tn", p.tn}, {"fn", p.fn}};
}

}  // namespace

nlohmann::json number_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json per_class_json(const ClassificationMetrics& m) {
  nlohmann::json out = nlohmann::json::object();
  for (const ClassMetrics& c : m.classes)
    out[c.name] = {{"auroc", number_json(c.auroc)}, {"support", c.support},
                   {"at_0.5", operating_point(c.at_half)}, {"at_youden", operating_point(c.at_youden)}};
  return out;
}

}  // namespace cxr
