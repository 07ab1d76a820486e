#include "job/activation_checkpointing.h"

#include "core/errors.h"

namespace cxr {

void apply_activation_checkpointing(const TrainRecipe& train, Network& /*net*/, const Shape& /*input_shape*/,
                                    JobObserver& /*observer*/) {
  // Refused rather than ignored until the planner recomputes whole stages.
  if (train.activation_checkpointing != "none")
    throw UsageError("train.activation_checkpointing: '" + train.activation_checkpointing +
                     "' is not available in this build; use none");
  if (train.memory_limit_gib)
    throw UsageError("train.memory_limit_gib is not available in this build; remove it");
}

}  // namespace cxr
