#include "job/activation_checkpointing.h"

#include <algorithm>
#include <cmath>

#include "core/did_you_mean.h"
#include "core/errors.h"
#include "engine/plan_budget.h"

namespace cxr {
namespace {

// The loader's batches in flight besides the one training (io/loader.h: prefetch 2, plus the
// one being filled), f32 pixels, as the estimate's caller-side share.
int64_t loader_bytes(const Shape& micro, int64_t accumulate_steps) {
  return 3 * accumulate_steps * micro[0] * micro[1] * micro[2] * micro[3] * static_cast<int64_t>(sizeof(float));
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

std::vector<std::string> checked_stages(const TrainRecipe& train, const Network& net) {
  const std::vector<std::string>& known = net.graph().stages;
  std::vector<std::string> stages;
  for (const std::string& s : train.checkpoint_stages) {
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      const std::string near = closest_name(s, known);
      throw UsageError("train.activation_checkpointing: '" + s + "' is not a stage of " + net.graph().arch +
                       (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; stages: " + join(known));
    }
    if (std::find(stages.begin(), stages.end(), s) == stages.end()) stages.push_back(s);
  }
  return stages;
}

std::string breakdown(const PeakEstimate& e) {
  return "input " + format_gib(e.input) + ", kept activations " + format_gib(e.kept) + ", arena " +
         format_gib(e.arena) + ", weights/gradients/optimizer/layers " + format_gib(e.tensors) + ", loader " +
         format_gib(e.extra) + ", process " + format_gib(e.baseline);
}

// What would fit when even every stage checkpointed does not: the activations scale with the
// micro-batch, the rest does not (a first-order guess, said so).
std::string what_would_fit(const TrainRecipe& train, const Shape& micro, const PeakEstimate& all, int64_t limit) {
  const int64_t per_image = (all.input + all.kept + all.arena + all.extra) / std::max<int64_t>(1, micro[0]);
  const int64_t fixed = all.baseline + all.tensors;
  const int64_t images = per_image > 0 && limit > fixed ? (limit - fixed) / per_image : 0;
  if (images < 1)
    return "the weights, optimizer state and process alone take about " + format_gib(fixed) +
           ": raise train.memory_limit_gib or use a smaller model";
  const int64_t per_step = train.batch_size / std::max<int64_t>(1, micro[0]);  // ranks x micro-batches
  const int64_t ranks = std::max<int64_t>(1, per_step / std::max<int64_t>(1, train.accumulate_steps));
  // The fewest micro-batches per step of equal size (batch_size divisible) at most `images` each.
  int64_t steps = train.accumulate_steps;
  while (steps < train.batch_size && (train.batch_size % (ranks * steps) != 0 || train.batch_size / (ranks * steps) > images))
    ++steps;
  return "about " + std::to_string(images) + " images per micro-batch fit with every stage checkpointed: " +
         "train.batch_size " + std::to_string(per_step * images) + ", or train.accumulate_steps " +
         std::to_string(steps) + " (batch_size stays " + std::to_string(train.batch_size) +
         "), or a smaller data.image_size";
}

}  // namespace

void apply_activation_checkpointing(const TrainRecipe& train, Network& net, const Shape& input_shape,
                                    JobObserver& observer) {
  const std::string& mode = train.activation_checkpointing;
  const std::optional<double>& limit_gib = train.memory_limit_gib;
  if (mode == "auto" && !limit_gib)
    throw UsageError("train.activation_checkpointing: auto needs train.memory_limit_gib, the budget its estimate "
                     "of peak memory must fit under; or list the stages (e.g. [layer1, layer2])");
  const int64_t extra = loader_bytes(input_shape, train.accumulate_steps);
  if (limit_gib && !(*limit_gib > 0))
    throw UsageError("train.memory_limit_gib: must be > 0, got " + std::to_string(*limit_gib));
  const auto limit = limit_gib ? static_cast<int64_t>(*limit_gib * 1024.0 * 1024.0 * 1024.0) : int64_t{0};
  std::vector<std::string> stages;
  PeakEstimate estimate;
  if (mode == "auto") {
    const CheckpointChoice choice = choose_checkpointed_stages(net, input_shape, limit, extra);
    if (!choice.fits)
      throw UsageError("train.memory_limit_gib: " + format_gib(limit) + " is too small: with every stage "
                       "checkpointed the estimated peak is " + format_gib(choice.estimate.total()) + " (" +
                       breakdown(choice.estimate) + "); " + what_would_fit(train, input_shape, choice.estimate, limit));
    stages = choice.stages;
    estimate = choice.estimate;
  } else {
    if (mode == "list") stages = checked_stages(train, net);
    else if (mode != "none")
      throw UsageError("train.activation_checkpointing: '" + mode + "' is none, auto or a list of stages");
    if (stages.empty() && !limit_gib) return;  // nothing to plan or to check
    estimate = estimate_training_peak(net, input_shape, stages, extra);
    if (limit_gib && estimate.total() > limit) {
      const PeakEstimate all = estimate_training_peak(net, input_shape, net.graph().stages, extra);
      throw UsageError("train.memory_limit_gib: the estimated peak with checkpointing " + join(stages) + " is " +
                       format_gib(estimate.total()) + " (" + breakdown(estimate) + "), over " + format_gib(limit) +
                       "; every stage checkpointed: " + format_gib(all.total()) +
                       (all.total() <= limit ? " (fits: train.activation_checkpointing: auto chooses the fewest)"
                                             : "; " + what_would_fit(train, input_shape, all, limit)));
    }
  }
  net.set_checkpointed_stages(stages);
  observer.note("activation checkpointing: " + join(stages) + "; estimated peak memory " +
                format_gib(estimate.total()) + (limit_gib ? " of " + format_gib(limit) : "") + " (" +
                breakdown(estimate) + ")");
}

}  // namespace cxr
