// Classification metrics as JSON with the stable key names of metrics.jsonl's epoch records and
// eval's metrics.json. NaN (undefined AUROC, no positives) becomes null.
#pragma once
#include <nlohmann/json.hpp>

#include "core/metrics.h"

namespace cxr {

nlohmann::json number_json(double v);
// {"<class>": {"auroc", "support", "at_0.5": {...}, "at_youden": {...}}, ...}
nlohmann::json per_class_json(const ClassificationMetrics& m);

}  // namespace cxr
