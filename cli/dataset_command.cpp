// `cxrtune dataset RECIPE.yaml [--set k=v ...] [--split train|val|test] [--format csv|json]`:
// a dry run of the recipe's data section. One row per sample on stdout, exactly what training
// would read (the same io/dataset_layouts.h resolution): path relative to the dataset root, split,
// a salted patient key (io/patient_groups.h; never the patient id), the label vector and the mask
// vector (1: the label counts, 0: ignored, data.uncertain: ignore). CSV columns
// path,split,patient,<label>...,<label>_mask..., every field quoted; an ignored label's value is
// empty. The summary (samples per split, positive / negative / ignored per label, files skipped
// and why) goes to stderr.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/errors.h"
#include "io/csv.h"
#include "recipes/data_request.h"
#include "recipes/recipe_parser.h"

namespace cxr::cli {
namespace {

struct Options {
  std::string recipe, split, format = "csv";
  std::vector<std::string> overrides;
};

// Label value and mask of one target: single-label data as one-hot, never masked.
std::pair<std::string, std::string> cell(const Dataset& d, const Sample& s, size_t k) {
  if (!d.multi_label) return {static_cast<int64_t>(k) == s.label ? "1" : "0", "1"};
  const float t = k < s.targets.size() ? s.targets[k] : 0.0f;
  if (is_ignored_target(t)) return {"", "0"};
  return {t >= 0.5f ? "1" : "0", "1"};
}

void print_split(const Dataset& d, const std::string& split, const Options& o, nlohmann::json& rows) {
  for (const Sample& s : d.samples) {
    std::vector<std::string> values, masks;
    for (size_t k = 0; k < d.classes.size(); ++k) {
      auto [v, m] = cell(d, s, k);
      values.push_back(v);
      masks.push_back(m);
    }
    if (o.format == "json") {
      nlohmann::json labels = nlohmann::json::object(), mask = nlohmann::json::object();
      for (size_t k = 0; k < d.classes.size(); ++k) {
        labels[d.classes[k]] = values[k].empty() ? nlohmann::json(nullptr) : nlohmann::json(values[k] == "1" ? 1 : 0);
        mask[d.classes[k]] = masks[k] == "1" ? 1 : 0;
      }
      rows.push_back({{"path", s.relative}, {"split", split}, {"patient", s.patient_key}, {"labels", labels}, {"mask", mask}});
      continue;
    }
    std::vector<std::string> row{s.relative, split, s.patient_key};
    row.insert(row.end(), values.begin(), values.end());
    row.insert(row.end(), masks.begin(), masks.end());
    std::fputs(csv_row(row).c_str(), stdout);
  }
}

}  // namespace

void add_dataset_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("dataset", "dry run of the recipe's data: one row per sample (CSV or JSON), summary on stderr");
  cmd->add_option("RECIPE", o->recipe, "recipe YAML")->required();
  cmd->add_option("--set", o->overrides, "override a recipe key: key.path=value")->take_all();
  cmd->add_option("--split", o->split, "only this split")->check(CLI::IsMember({"train", "val", "test"}));
  cmd->add_option("--format", o->format, "csv (default) or json")->check(CLI::IsMember({"csv", "json"}));
  cmd->callback([o] {
    const Recipe recipe = parse_recipe_file(o->recipe, o->overrides);
    const ResolvedData data = resolve_dataset(layout_request(recipe));
    const DataSplits& d = data.splits;
    if (o->format == "csv") {
      std::vector<std::string> header{"path", "split", "patient"};
      for (const std::string& l : d.train.classes) header.push_back(l);
      for (const std::string& l : d.train.classes) header.push_back(l + "_mask");
      std::fputs(csv_row(header).c_str(), stdout);
    }
    nlohmann::json rows = nlohmann::json::array();
    if (o->split.empty() || o->split == "train") print_split(d.train, "train", *o, rows);
    if (o->split.empty() || o->split == "val") print_split(d.val, "val", *o, rows);
    if (d.test && (o->split.empty() || o->split == "test")) print_split(*d.test, "test", *o, rows);
    if (o->format == "json")
      std::printf("%s\n", nlohmann::json{{"labels", d.train.classes}, {"samples", rows}}.dump(1).c_str());
    std::fflush(stdout);
    std::fputs(data.summary.text().c_str(), stderr);
  });
}

}  // namespace cxr::cli
