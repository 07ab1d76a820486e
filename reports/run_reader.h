// A run directory read for the report: the step and epoch records of metrics.jsonl, the weight
// change per stage, the resolved recipe text and the last validation predictions. Malformed
// lines are UsageErrors naming file and line.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace cxr {

struct StepRow {
  int64_t epoch = 0, step = 0;
  double loss = 0, images_per_s = 0;
  std::map<std::string, double> lr, grad;  // grad includes "total"
};

struct EpochRow {
  int64_t epoch = 0;
  double train_loss = 0, val_loss = 0, val_accuracy = 0, val_auroc = 0;
  bool has_val = false;
  std::map<std::string, double> grad_mean, grad_last;
  std::vector<std::vector<int64_t>> confusion;
  struct ClassRow {
    std::string name;
    int64_t support = 0;
    double auroc = 0, sens_half = 0, spec_half = 0, threshold_j = 0, sens_j = 0, spec_j = 0;
  };
  std::vector<ClassRow> per_class;
};

struct RunData {
  std::string dir, name, recipe;
  std::vector<std::string> stages;  // from the step records, input side first
  std::vector<StepRow> steps;
  std::vector<EpochRow> epochs;
  std::map<std::string, double> weight_change;
  std::vector<std::string> classes;
  std::vector<std::vector<double>> scores, targets;  // last validation
  std::vector<std::pair<std::string, std::string>> environment;  // run_info.json, as text
};

RunData read_run(const std::string& dir);

}  // namespace cxr
