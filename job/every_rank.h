// A piece of a data-parallel run (issue #20) that every rank runs together, its collectives in
// the same order: a failure on one rank alone would leave the others waiting in a collective
// forever, so it is said with the rank's number and ends every rank with its exit code
// (Communicator::abort; mpirun returns it). Interrupted passes through as it is: every rank
// stops at the same step (the trainer agrees on it), and rank 0 says where the checkpoint is.
// One rank: `body` runs as it is.
#pragma once
#include <functional>

#include "engine/communicator.h"

namespace cxr {

void run_on_every_rank(Communicator& world, const std::function<void()>& body);

}  // namespace cxr
