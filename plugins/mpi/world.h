// The communicator of this process (issue #20): MPI's world when the process was started by a
// parallel launcher (mpirun, srun: their environment says so) and cxrtune was built with MPI;
// otherwise one process alone, and no MPI call is ever made, so a plain `cxrtune train` needs no
// mpirun. Started on the first call and finalised at exit.
#pragma once
#include <string>

#include "engine/communicator.h"

namespace cxr {

// UsageError when a launcher started several processes but this build has no MPI (each would
// train alone and write the same run directory).
Communicator& world_communicator();

// The launcher's world size from the environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_SIZE,
// MV2_COMM_WORLD_SIZE), 1 when none is set.
int launcher_world_size();
// Did a launcher start this process (any of those, PMI_RANK or PMIX_RANK set)?
bool started_by_launcher();

// Was cxrtune built with MPI (plugins/mpi/mpi_communicator.cpp)?
bool built_with_mpi();

}  // namespace cxr
