// `cxrtune compare A B --data TEST [-o compare.json] [--backend ...]`: A and B are checkpoints or
// run directories (their checkpoints/best.safetensors), both scored on TEST by eval's code; or
// `cxrtune compare A.json B.json`: two eval outputs (metrics.json, or the predictions.csv beside
// it) on the same samples, matched by path, refused when the samples or labels differ.
// Per class and for the macro (binary: the positive class) AUROC, the paired DeLong test of
// Δ = AUROC_A − AUROC_B: Δ, its 95 % CI (clipped to [−1, 1]), z and the two-sided p-value.
// The macro's variance uses the covariance of all 2K AUROCs (auroc_per_class.h: A's and B's
// classes as 2K "classes" sharing labels, where it reduces to DeLong's paired covariance). A
// masked multi-label target counts for neither side of its label (docs/statistics.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "job/checkpoint_eval.h"
#include "cli/commands.h"
#include "cli/eval_statistics.h"
#include "job/metrics_json.h"
#include "cli/predictions_file.h"
#include "core/atomic_file.h"
#include "engine/auroc_per_class.h"
#include "engine/delong.h"
#include "core/errors.h"
#include "engine/normal_distribution.h"

namespace cxr::cli {
namespace {

using nlohmann::json;

struct CompareOptions {
  std::string a, b, data, out = "compare.json", backend, precision;
  std::vector<std::string> plugins;
};

bool is_predictions(const std::string& p) {
  const auto ext = std::filesystem::path(p).extension();
  return ext == ".json" || ext == ".csv";
}

ScoredSet scored(const CompareOptions& o, const std::string& what) {
  if (is_predictions(what)) return read_predictions_file(what);
  if (o.data.empty()) throw UsageError("compare " + what + ": give --data TEST to score checkpoints or run directories");
  return evaluate_checkpoint({checkpoint_of(what), o.data, o.backend, o.precision, o.plugins}).set;
}

json difference_json(const AurocDifference& d) {
  json j = {{"auroc_a", number_json(d.auc_a)}, {"auroc_b", number_json(d.auc_b)}, {"delta", number_json(d.delta)},
            {"ci95", json::array({number_json(d.lower), number_json(d.upper)})}, {"se", number_json(d.se)},
            {"z", number_json(d.z)}, {"p_value", number_json(d.p_value)},
            {"correlation", number_json(d.correlation)}, {"n_pos", d.n_pos}, {"n_neg", d.n_neg}};
  if (!d.defined()) j["note"] = d.reason;
  return j;
}

// Δ of the macro AUROCs over the classes defined for both models, with Var(Δ) = wᵀΣw.
AurocDifference macro_difference(const ScoredSet& a, const ScoredSet& b) {
  const size_t K = a.classes.size();
  std::vector<std::vector<double>> scores;
  std::vector<std::vector<bool>> pos;
  std::vector<std::vector<bool>> counted;  // a masked label counts for neither model (same labels)
  for (const ScoredSet* s : {&a, &b})
    for (size_t k = 0; k < K; ++k) {
      scores.push_back(class_scores(*s, k)), pos.push_back(class_positives(*s, k));
      counted.emplace_back();
      for (const auto& t : a.targets) counted.back().push_back(t.at(k) >= 0);
    }
  const PerClassAuroc all = auroc_per_class(scores, pos, 0.95, counted);
  AurocDifference d;
  d.method = "paired DeLong over the macro average (covariance of all class AUROCs of both models)";
  std::vector<size_t> used;
  for (size_t k = 0; k < K; ++k)
    if (std::isfinite(all.classes[k].auc) && std::isfinite(all.classes[K + k].auc)) used.push_back(k);
  if (used.empty()) {
    d.reason = "no class has positives and negatives";
    return d;
  }
  const double w = 1.0 / static_cast<double>(used.size());
  double sa = 0, sb = 0, var = 0;
  for (size_t k : used) sa += w * all.classes[k].auc, sb += w * all.classes[K + k].auc;
  for (size_t i : used)
    for (size_t j : used)
      for (int si = 0; si < 2; ++si)
        for (int sj = 0; sj < 2; ++sj) {
          const size_t r = i + (si ? K : 0), c = j + (sj ? K : 0);
          var += (si ? -w : w) * (sj ? -w : w) * all.covariance[r * 2 * K + c];
        }
  d.auc_a = sa, d.auc_b = sb, d.delta = sa - sb, d.variance = std::max(var, 0.0), d.se = std::sqrt(d.variance);
  if (!std::isfinite(var)) {
    d.reason = "a class has fewer than 2 positives or negatives: no variance";
    return d;
  }
  // As delong_paired_test: a zero variance means both models order every pair alike.
  d.z = d.se > 0 ? d.delta / d.se : d.delta == 0 ? 0.0 : std::copysign(INFINITY, d.delta);
  d.p_value = d.se > 0 ? two_sided_p_value(d.z) : d.delta == 0 ? 1.0 : 0.0;
  const double zc = z_for_level(0.95);
  d.lower = std::max(-1.0, d.delta - zc * d.se), d.upper = std::min(1.0, d.delta + zc * d.se);
  return d;
}

std::string row(const std::string& name, const json& d) {
  auto f = [](const json& v, const char* fmt) {
    if (!v.is_number()) return std::string("–");
    char buf[48];
    std::snprintf(buf, sizeof buf, fmt, v.get<double>());
    return std::string(buf);
  };
  char line[512];
  std::snprintf(line, sizeof line, "%-20s %-8s %-8s %-9s %-22s %-8s %s\n", name.c_str(), f(d["auroc_a"], "%.4f").c_str(),
                f(d["auroc_b"], "%.4f").c_str(), f(d["delta"], "%+.4f").c_str(),
                ("[" + f(d["ci95"][0], "%+.4f") + ", " + f(d["ci95"][1], "%+.4f") + "]").c_str(),
                f(d["z"], "%.3f").c_str(), f(d["p_value"], "%.4g").c_str());
  return line;
}

void run_compare(const CompareOptions& o) {
  if (is_predictions(o.a) != is_predictions(o.b))
    throw UsageError("compare: give two checkpoints/run directories, or two eval outputs (metrics.json or predictions.csv)");
  const ScoredSet a = scored(o, o.a);
  const ScoredSet b = match_samples(a, scored(o, o.b), o.a, o.b);
  const bool binary = !a.multi_label && a.classes.size() == 2;
  json j = {{"a", o.a}, {"b", o.b}, {"count", a.ids.size()}, {"classes", a.classes},
            {"method", "paired DeLong test (Sun & Xu midranks), two-sided normal; 95 % CI of Δ = AUROC_A − AUROC_B"},
            {"per_class", json::object()}};
  std::string table = "Δ AUROC = A − B on " + std::to_string(a.ids.size()) + " images (paired DeLong)\n";
  char head[256];
  std::snprintf(head, sizeof head, "%-20s %-8s %-8s %-9s %-22s %-8s %s\n", "class", "AUROC A", "AUROC B", "Δ", "95% CI",
                "z", "p");
  table += head;
  for (size_t k = 0; k < a.classes.size(); ++k) {
    // Each class on its unmasked samples; b holds a's samples in a's order with a's labels.
    const ClassColumn ua = unmasked_class(a, k), ub = unmasked_class(b, k);
    const json d = difference_json(delong_paired_test(ua.scores, ub.scores, ua.positives));
    j["per_class"][a.classes[k]] = d;
    table += row(a.classes[k], d);
  }
  j["macro"] = binary ? j["per_class"][a.classes[1]] : difference_json(macro_difference(a, b));
  j["macro_of"] = binary ? "the positive class, " + a.classes[1] : "the mean over classes defined for both";
  table += row(binary ? "AUROC (" + a.classes[1] + ")" : "macro", j["macro"]);
  const auto dir = std::filesystem::path(o.out).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  write_file_atomic(o.out, j.dump(2) + "\n");
  std::printf("%swrote %s\n", table.c_str(), o.out.c_str());
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand("compare", "paired DeLong test of two models' AUROCs on the same images");
  cmd->add_option("A", o->a, "checkpoint, run directory, or an eval metrics.json / predictions.csv")->required();
  cmd->add_option("B", o->b, "the same kind as A")->required();
  cmd->add_option("--data", o->data, "test data (folder-per-class or CSV manifest) when A and B are models");
  cmd->add_option("-o,--out", o->out, "compare JSON")->capture_default_str();
  cmd->add_option("--backend", o->backend, "cpu | cuda | auto");
  cmd->add_option("--precision", o->precision, "f32 | bf16 | f16")->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_option("--plugin", o->plugins, "layer plugins")->take_all();
  cmd->callback([o] { run_compare(*o); });
}

}  // namespace cxr::cli
