// The MPI implementation of Communicator (the only code that includes mpi.h). Made by
// world_communicator() (world.h) when a launcher started this process.
#pragma once
#include <memory>

#include "engine/communicator.h"

namespace cxr {

// MPI_Init_thread (a communication thread allreduces while the main thread computes) and a
// duplicate of MPI_COMM_WORLD whose errors return, so a failed collective is a RuntimeFailure
// naming the ranks; MPI_Finalize when the object is destroyed.
std::unique_ptr<Communicator> make_mpi_world();

}  // namespace cxr
