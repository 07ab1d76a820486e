#include "reports/paired_comparison.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "reports/html.h"

namespace cxr::report {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

double number(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

PairedRow row_of(const std::string& name, const json& j) {
  PairedRow r;
  r.name = name;
  if (!j.is_object()) return r;
  r.auroc_a = number(j, "auroc_a"), r.auroc_b = number(j, "auroc_b"), r.delta = number(j, "delta");
  r.p_value = number(j, "p_value");
  const json ci = j.value("ci95", json());
  if (ci.is_array() && ci.size() == 2) {
    r.lower = ci[0].is_number() ? ci[0].get<double>() : std::nan("");
    r.upper = ci[1].is_number() ? ci[1].get<double>() : std::nan("");
  }
  if (j.contains("note") && j["note"].is_string()) r.note = j["note"].get<std::string>();
  return r;
}

// What compare was given, as a short name: RUN/eval/metrics.json (or predictions.csv) → RUN,
// a checkpoint RUN/checkpoints/x.safetensors → RUN, a directory → its name.
std::string short_name(const std::string& given) {
  fs::path p(given);
  if (p.filename().empty()) p = p.parent_path();
  const std::string parent = p.parent_path().filename().string();
  if ((parent == "eval" || parent == "checkpoints") && !p.parent_path().parent_path().filename().empty())
    return p.parent_path().parent_path().filename().string();
  return p.filename().string();
}

std::string signed_num(double v) { return std::isfinite(v) ? (v >= 0 ? "+" : "") + html::num("%.4f", v) : "–"; }

}  // namespace

PairedComparison read_paired_comparison(const std::string& run_dir) {
  PairedComparison c;
  c.file = (fs::path(run_dir) / "eval" / "compare.json").string();
  std::ifstream in(c.file, std::ios::binary);
  if (!in) return c;
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception& e) {
    throw UsageError(c.file + ": not JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("per_class") || !j["per_class"].is_object())
    throw UsageError(c.file + ": not a cxrtune compare output (no per_class object)");
  c.present = true;
  c.a = j.contains("a") && j["a"].is_string() ? short_name(j["a"].get<std::string>()) : "A";
  c.b = j.contains("b") && j["b"].is_string() ? short_name(j["b"].get<std::string>()) : "B";
  c.count = j.value("count", json()).is_number_integer() ? j["count"].get<int64_t>() : 0;
  c.macro_of = j.contains("macro_of") && j["macro_of"].is_string() ? j["macro_of"].get<std::string>() : "";
  for (auto it = j["per_class"].begin(); it != j["per_class"].end(); ++it) c.per_class.push_back(row_of(it.key(), *it));
  c.macro = row_of("macro", j.value("macro", json()));
  return c;
}

std::string paired_comparison_section(const std::vector<RunData>& runs) {
  std::string out;
  for (const RunData& run : runs) {
    const PairedComparison c = read_paired_comparison(run.dir);
    if (!c.present) continue;
    const PairedRow& m = c.macro;
    std::string sentence = "On the same " + std::to_string(c.count) + " test images, AUROC(" + c.a + ") − AUROC(" + c.b +
                           ") = " + signed_num(m.delta) + " (" + html::num("%.4f", m.auroc_a) + " vs " +
                           html::num("%.4f", m.auroc_b) + "; " + (c.macro_of.empty() ? "macro" : c.macro_of) + ")";
    if (std::isfinite(m.lower) && std::isfinite(m.p_value)) {
      sentence += ", 95 % CI [" + signed_num(m.lower) + ", " + signed_num(m.upper) + "], p = " + html::num("%.3g", m.p_value);
      sentence += m.p_value < 0.05 ? ": the difference is significant at the 5 % level."
                                   : ": no significant difference at the 5 % level (the interval includes 0).";
    } else {
      sentence += m.note.empty() ? "; no interval." : "; no interval: " + m.note + ".";
    }
    html::Table t{{"class", "AUROC " + c.a, "AUROC " + c.b, "Δ", "95 % CI of Δ", "p"}, {}, true,
                  "paired DeLong test, Δ = AUROC(" + c.a + ") − AUROC(" + c.b + ")"};
    std::vector<PairedRow> rows = c.per_class;
    rows.push_back(m);
    rows.back().name = c.macro_of.empty() ? "macro" : "headline: " + c.macro_of;
    for (const PairedRow& r : rows)
      t.rows.push_back({r.name, html::num("%.4f", r.auroc_a), html::num("%.4f", r.auroc_b), signed_num(r.delta),
                        std::isfinite(r.lower) ? "[" + signed_num(r.lower) + ", " + signed_num(r.upper) + "]" : "–",
                        r.note.empty() ? html::num("%.3g", r.p_value) : r.note});
    out += "<p>" + html::escape(sentence) + "</p>" + html::table(t) +
           "<p class='note'>From " + html::escape(c.file) + " (cxrtune compare: DeLong's paired test, the two models "
           "scored on the same images).</p>";
  }
  return out;
}

}  // namespace cxr::report
