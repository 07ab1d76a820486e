// `cxrtune report`: one self-contained HTML page (inline SVG, no network) from run directories.
// Reads only what contracts.md puts in a run directory (recipe.yaml, metrics.jsonl,
// weight_change.json) plus val_predictions.json. Every string is escaped; nothing but the
// known keys is printed, so no patient identifier can reach the page.
#pragma once
#include <string>
#include <vector>

namespace cxr {

void write_report(const std::vector<std::string>& run_dirs, const std::string& out_html);

// The same summary as numbers, for CI (`cxrtune report --format json`): per run the epoch
// metrics, weight change, first-batch gradient norms and gradient-health findings.
std::string report_json(const std::vector<std::string>& run_dirs);

std::string html_escape(const std::string& text);

}  // namespace cxr
