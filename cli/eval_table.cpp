#include "cli/eval_table.h"

#include <cstdio>

namespace cxr::cli {
namespace {

using nlohmann::json;

std::string fmt(const json& v, const char* format = "%.4f") {
  if (!v.is_number()) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v.get<double>());
  return buf;
}

std::string ci(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number()) return "–";
  return "[" + fmt(pair[0]) + ", " + fmt(pair[1]) + "]";
}

// `key` of `j`, or null when `j` is not an object holding it.
const json& at(const json& j, const std::string& key) {
  static const json null;
  return j.is_object() && j.contains(key) ? j[key] : null;
}

std::string padded(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string subgroups_table(const json& m) {
  const json& sg = at(m, "subgroups");
  if (!sg.is_object()) return "";
  std::string out = "\nsubgroups (AUROC with DeLong 95% CI; groups under " + std::to_string(sg.value("min_size", 0)) +
                    " images are too small to score)\n";
  for (const auto& [key, k] : at(sg, "keys").items()) {
    out += key + " (" + k.value("source", std::string()) + ")\n";
    for (const json& g : at(k, "groups")) {
      std::string line = "  " + padded(g.value("value", std::string()), 18) + padded(std::to_string(g.value("count", 0)) + " images", 12);
      if (g.value("status", std::string()) != "scored") {
        out += line + "too small\n";
        continue;
      }
      for (const auto& [name, c] : at(g, "per_class").items())
        line += name + " " + fmt(at(c, "auroc")) + " " + ci(at(c, "auroc_ci95")) + "  ";
      out += line + "\n";
    }
  }
  return out;
}

std::string core_table(const json& m) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%lld images: accuracy %s, AUROC %s, 95%% CI %s (DeLong), loss %s\n",
                static_cast<long long>(m.value("count", int64_t{0})), fmt(at(m, "accuracy")).c_str(),
                fmt(at(m, "auroc")).c_str(), ci(at(m, "auroc_ci95")).c_str(), fmt(at(m, "loss")).c_str());
  out += line;
  const json& boot = at(m, "bootstrap");
  if (boot.is_object())
    out += "bootstrap (" + std::to_string(boot.value("resamples", 0)) + " resamples, seed " +
           std::to_string(boot.value("seed", 0)) + "): macro AUROC 95% CI " + ci(at(at(boot, "macro_auroc"), "ci95")) + "\n";
  out += "\n" + padded("class", 20) + padded("support", 9) + padded("AUROC", 8) + padded("DeLong 95% CI", 18) +
         padded("bootstrap CI", 18) + padded("AP", 8) + "AP bootstrap CI\n";
  for (const auto& [name, c] : at(m, "per_class").items()) {
    const json& bc = at(at(boot, "per_class"), name);
    out += padded(name, 20) + padded(std::to_string(c.value("support", 0)), 9) + padded(fmt(at(c, "auroc")), 8) +
           padded(ci(at(c, "auroc_ci95")), 18) + padded(ci(at(at(bc, "auroc"), "ci95")), 18) +
           padded(fmt(at(c, "average_precision")), 8) + ci(at(at(bc, "average_precision"), "ci95")) + "\n";
  }
  out += "\ncalibration (" + m.value("calibration_of", std::string()) + "): Brier " + fmt(at(m, "brier")) + ", ECE " +
         fmt(at(m, "ece")) + " (" + m.value("ece_binning", std::string()) + ")\n";
  out += "  " + padded("bin", 14) + padded("count", 7) + padded("mean p", 8) + "observed\n";
  for (const json& b : at(m, "reliability"))
    if (b.value("count", 0) > 0)
      out += "  " + padded(fmt(at(b, "lower"), "%.3f") + "-" + fmt(at(b, "upper"), "%.3f"), 14) +
             padded(std::to_string(b.value("count", 0)), 7) + padded(fmt(at(b, "mean_predicted"), "%.3f"), 8) +
             fmt(at(b, "observed_frequency"), "%.3f") + "\n";
  const json& op = at(m, "operating_point");
  if (!op.is_object()) {
    out += "\noperating point: " + m.value("operating_point_note", std::string("none")) + "\n";
    return out;
  }
  out += "\noperating point (" + op.value("rule", std::string()) + ", chosen on " + op.value("chosen_on", std::string()) +
         "; Wilson CIs, F1 bootstrap)\n";
  out += padded("class", 20) + padded("threshold", 10) + padded("target", 16) + padded("val", 8) + padded("achieved", 9) +
         padded("sensitivity", 26) + padded("specificity", 26) + padded("PPV", 26) + padded("NPV", 26) + "F1\n";
  for (const auto& [name, c] : at(op, "per_class").items()) {
    auto cell = [&](const char* key) { return fmt(at(at(c, key), "value"), "%.3f") + " " + ci(at(at(c, key), "ci95")); };
    const json& target = at(c, "target");
    out += padded(name, 20) + padded(fmt(at(c, "threshold")), 10) +
           padded(target.is_string() ? target.get<std::string>() : fmt(target, "%.3f"), 16) +
           padded(fmt(at(c, "val_achieved"), "%.3f"), 8) + padded(fmt(at(c, "achieved"), "%.3f"), 9) +
           padded(cell("sensitivity"), 26) + padded(cell("specificity"), 26) + padded(cell("ppv"), 26) +
           padded(cell("npv"), 26) + cell("f1") + "\n";
  }
  return out;
}

}  // namespace

std::string statistics_table(const json& m) { return core_table(m) + subgroups_table(m); }

}  // namespace cxr::cli
