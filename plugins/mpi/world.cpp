#include "plugins/mpi/world.h"

#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/errors.h"
#ifdef CXRTUNE_HAVE_MPI
#include "plugins/mpi/mpi_communicator.h"
#endif

namespace cxr {
namespace {

std::unique_ptr<Communicator>& world_slot() {
  static std::unique_ptr<Communicator> world;
  return world;
}

}  // namespace

bool built_with_mpi() {
#ifdef CXRTUNE_HAVE_MPI
  return true;
#else
  return false;
#endif
}

int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE"})
    if (const char* v = std::getenv(name)) {
      const int n = std::atoi(v);
      if (n >= 1) return n;
    }
  return 1;
}

bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

Communicator& world_communicator() {
  static std::once_flag once;
  std::call_once(once, [] {
    const int launched = launcher_world_size();
#ifdef CXRTUNE_HAVE_MPI
    if (started_by_launcher()) {
      world_slot() = make_mpi_world();
      // Finalised at exit, after main returns and every other communicator user is gone.
      std::atexit([] { world_slot().reset(); });
      return;
    }
#endif
    if (launched > 1)
      throw UsageError("started by a parallel launcher as one of " + std::to_string(launched) +
                       " processes, but this cxrtune was built without MPI (install libopenmpi-dev and rebuild; "
                       "scripts/deps.sh): each process would train alone into the same run directory");
    world_slot() = std::make_unique<SingleProcess>();
  });
  if (!world_slot()) throw UsageError("the MPI world could not be started (see the message above)");
  return *world_slot();
}

}  // namespace cxr
