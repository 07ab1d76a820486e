// train.activation_checkpointing and train.memory_limit_gib (issue #21): which stages the
// network recomputes in backward from their kept input, chosen before the network is prepared
// for training, and the planner's peak-memory estimate checked against the budget.
#pragma once
#include "engine/network.h"
#include "engine/shape.h"
#include "job/job_observer.h"
#include "recipes/recipe.h"

namespace cxr {

// Called before the network is prepared for training on `input_shape`. UsageError (exit 2) when
// the recipe's choice cannot be honoured.
void apply_activation_checkpointing(const TrainRecipe& train, Network& net, const Shape& input_shape,
                                    JobObserver& observer);

}  // namespace cxr
