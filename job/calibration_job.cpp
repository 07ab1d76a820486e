#include "job/calibration_job.h"

#include <cstdio>

#include "core/errors.h"
#include "engine/calibration.h"
#include "engine/temperature_scaling.h"
#include "engine/trainer.h"
#include "io/weights/safetensors.h"
#include "job/model_setup.h"

namespace cxr {
namespace {

struct Scores {
  std::vector<double> logits;  // [n, K]
  std::vector<double> targets;  // [n, K]: one-hot, or multi-label 0/1/-1
  int64_t n = 0, k = 0;
};

// ECE as eval reports it: the positive class's probability for two classes, the top label for
// more, every counted label pooled for multi-label.
double ece_of(const Scores& s, bool multi_label, double temperature, std::string& of) {
  const std::vector<double> z = apply_temperature(s.logits, temperature);
  if (multi_label) {
    of = "every unmasked label's probability, pooled";
    const std::vector<double> p = sigmoid_probabilities(z);
    std::vector<double> kept;
    std::vector<bool> y;
    for (size_t i = 0; i < p.size(); ++i)
      if (s.targets[i] >= 0) kept.push_back(p[i]), y.push_back(s.targets[i] > 0.5);
    return calibration(kept, y).ece;
  }
  const std::vector<double> p = softmax_probabilities(z, s.k);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t c = 0; c < s.k; ++c)
      if (s.targets[static_cast<size_t>(i * s.k + c)] > 0.5) labels.push_back(c);
  if (s.k == 2) {
    of = "probability of the second class (the positive class)";
    std::vector<double> p1;
    std::vector<bool> y;
    for (int64_t i = 0; i < s.n; ++i) p1.push_back(p[static_cast<size_t>(i * 2 + 1)]), y.push_back(labels[static_cast<size_t>(i)] == 1);
    return calibration(p1, y).ece;
  }
  of = "top-label confidence against correctness (Guo et al. 2017)";
  return calibration_top_label(p, labels, s.k).ece;
}

}  // namespace

std::string temperature_text(double temperature) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", temperature);
  return buf;
}

CalibrationOutcome calibrate_checkpoint(const CheckpointModelOptions& o) {
  CheckpointModel cm = load_checkpoint_model(o);
  const Recipe& r = cm.recipe;
  JobData data = make_data(r);
  if (data.val->dataset().classes != cm.classes)
    throw UsageError("eval --calibrate: the recipe's validation split has classes " + data.val->dataset().summary() +
                     "; the checkpoint was trained on other classes");
  const auto loss = make_loss(r, data.train->dataset());
  TrainStep step(*cm.model.network, *cm.model.registry, *loss);
  const int64_t b = r.train.batch_size, s = r.data.image_size;
  step.prepare({b, r.model.in_channels, s, s}, cm.multi_label ? Shape{b, r.model.num_classes} : Shape{b}, false);
  TrainConfig tc;
  tc.class_names = cm.classes;
  tc.multi_label = cm.multi_label;  // temperature 1: the fit starts from the raw logits
  struct NoOptimizer : StepOptimizer {
    std::map<std::string, double> step(int64_t) override { return {}; }
  } none;
  Trainer trainer(*cm.model.network, step, none, tc);
  const EvalResult v = trainer.evaluate(*data.val);

  Scores sc;
  sc.logits = v.logits;
  sc.n = static_cast<int64_t>(v.probs.size());
  sc.k = static_cast<int64_t>(cm.classes.size());
  for (const auto& t : v.targets) sc.targets.insert(sc.targets.end(), t.begin(), t.end());
  TemperatureFit fit;
  if (cm.multi_label) {
    // One T shared by all labels, fitted on the labels that count.
    std::vector<double> z;
    std::vector<bool> y;
    for (size_t i = 0; i < sc.logits.size(); ++i)
      if (sc.targets[i] >= 0) z.push_back(sc.logits[i]), y.push_back(sc.targets[i] > 0.5);
    fit = fit_temperature_sigmoid(z, y);
  } else {
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < sc.n; ++i)
      for (int64_t c = 0; c < sc.k; ++c)
        if (sc.targets[static_cast<size_t>(i * sc.k + c)] > 0.5) labels.push_back(c);
    fit = fit_temperature_softmax(sc.logits, labels, sc.k);
  }
  CalibrationOutcome out;
  out.checkpoint = cm.checkpoint;
  out.temperature = fit.temperature;
  out.samples = sc.n;
  out.nll_before = fit.nll_before;
  out.nll_after = fit.nll_after;
  out.at_bracket_edge = fit.at_bracket_edge;
  out.ece_before = ece_of(sc, cm.multi_label, 1.0, out.ece_of);
  out.ece_after = ece_of(sc, cm.multi_label, fit.temperature, out.ece_of);

  // A new file renamed over the old name (write_safetensors is atomic): a hard-linked
  // best.safetensors leaves the step directory's model file as it was.
  StateDict dict = read_safetensors(cm.checkpoint, input_limits(r));
  dict.metadata["temperature"] = temperature_text(fit.temperature);
  write_safetensors(cm.checkpoint, dict);
  return out;
}

}  // namespace cxr
