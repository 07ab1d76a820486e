// The NCCL implementation of Communicator (issue #20): float and double sums with ncclAllReduce
// on the GPU of this rank, bootstrapped over another communicator (MPI: rank 0's ncclUniqueId is
// broadcast through it), which also carries broadcast, allgather and barrier (small, host data).
// Compiled where CUDA's nccl.h and libnccl are found (plugins/nccl/CMakeLists.txt). The
// trainer's reducer hands it host buffers: they are staged through device memory.
#pragma once
#include <memory>

#include "engine/communicator.h"

namespace cxr {

// `device`: the CUDA device of this rank (its node-local rank, normally). RuntimeFailure when
// CUDA or NCCL fail, naming the call. `bootstrap` must outlive the result.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device);

// CUDA devices visible to this process (0 without a driver or GPU), for tests that skip.
int nccl_visible_devices();

}  // namespace cxr
