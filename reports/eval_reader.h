// Reading the statistics of `cxrtune eval`'s metrics.json (keys in run_reader.h) into an
// EvalSummary. Keys that are missing or not of the expected type read as absent (NaN, empty),
// so a metrics.json written before these statistics existed still reads.
#pragma once
#include <nlohmann/json.hpp>

#include "reports/run_reader.h"

namespace cxr::report {

void read_eval_statistics(const nlohmann::json& metrics, EvalSummary& eval);

}  // namespace cxr::report
