// `cxrtune report --format json`: the page's numbers for CI. Non-finite numbers are null.
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "reports/classification.h"
#include "reports/health.h"
#include "reports/report.h"
#include "reports/run_reader.h"

namespace cxr {
namespace {

using nlohmann::json;
using report::RunData;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json by_stage(const std::vector<std::string>& stages, const std::vector<double>& values) {
  json j = json::object();
  for (size_t k = 0; k < stages.size() && k < values.size(); ++k) j[stages[k]] = num(values[k]);
  return j;
}

json run_json(const RunData& r) {
  json epochs = json::array();
  double best = std::nan("");
  for (const report::EpochRow& e : r.epochs) {
    epochs.push_back({{"epoch", e.epoch}, {"train_loss", num(e.train_loss)}, {"val_loss", num(e.val_loss)},
                      {"val_accuracy", num(e.val_accuracy)}, {"val_auroc", num(e.val_auroc)},
                      {"grad_norm_mean", by_stage(r.stages, e.grad_mean)}, {"grad_norm_last", by_stage(r.stages, e.grad_last)}});
    if (std::isfinite(e.val_auroc) && !(e.val_auroc <= best)) best = e.val_auroc;
  }
  json change = json::object();
  for (const auto& [k, v] : r.weight_change) change[k] = num(v);
  json first = json::object();
  if (!r.steps.empty()) {
    first = by_stage(r.stages, r.steps.front().grad);
    first["total"] = num(r.steps.front().grad_total);
  }
  json roc = json::object();
  for (size_t c = 0; c < r.predictions.classes.size(); ++c)
    roc[r.predictions.classes[c]] = num(report::roc_curve(r.predictions, c).auroc);
  json health = json::array();
  for (const report::Finding& f : report::run_health(r))
    health.push_back({{"kind", f.kind}, {"series", f.series}, {"first_step", f.first_step}, {"count", f.count},
                      {"value", num(f.value)}, {"reference", num(f.reference)}, {"steps", f.steps},
                      {"message", f.message}});
  return {{"run", r.name},
          {"steps", r.steps.size()},
          {"stages", r.stages},
          {"epochs", epochs},
          {"weight_change", change},
          {"first_batch_grad_norm", first},
          {"last_epoch_grad_norm", r.epochs.empty() ? json::object() : by_stage(r.stages, r.epochs.back().grad_last)},
          {"best_val_auroc", num(best)},
          {"roc_auroc", roc},
          {"health", health}};
}

}  // namespace

std::string report_json(const std::vector<std::string>& run_dirs) {
  if (run_dirs.empty()) throw UsageError("report: no run directory given");
  json runs = json::array();
  for (const auto& d : run_dirs) runs.push_back(run_json(report::read_run(d)));
  return json({{"runs", runs}}).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace cxr
