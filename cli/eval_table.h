// The compact table `cxrtune eval` prints on stdout: every figure of metrics.json (point
// estimates, DeLong and bootstrap intervals, AP, calibration, the operating point), read back
// from the JSON object so that the table and the file can never disagree.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace cxr::cli {

std::string statistics_table(const nlohmann::json& metrics);

}  // namespace cxr::cli
