// `cxrtune report`: one self-contained HTML page (inline SVG and CSS; no script, no network, no
// external resource) telling how fine-tuning moved each stage of one or more runs, and the same
// summary as JSON for CI. Reads only run directories (see run_reader.h for the files and keys);
// prints only known keys, every string escaped, so no patient identifier reaches the page.
// Failure modes: a missing or malformed run directory → UsageError naming the file (and line
// for metrics.jsonl); an unwritable output → RuntimeFailure naming the path.
#pragma once
#include <string>
#include <vector>

namespace cxr {

// Writes the page to `out_html` atomically (a temporary file renamed over the target), so
// `cxrtune train` can call it at the end of a run.
// images false (report --no-images): no pixel data in the page (the gallery shows its list only).
void write_report(const std::vector<std::string>& run_dirs, const std::string& out_html, bool images = true);

// The page as a string (what write_report writes).
std::string render_report(const std::vector<std::string>& run_dirs, bool images = true);

// The summary as numbers: {"runs": [{"run", "steps", "stages", "epochs": [...], "weight_change",
// "first_batch_grad_norm", "last_epoch_grad_norm", "best_val_auroc", "roc_auroc", "health": [...]}]}.
std::string report_json(const std::vector<std::string>& run_dirs);

}  // namespace cxr
