#include "job/every_rank.h"

#include <cstdio>
#include <exception>
#include <string>

#include "core/errors.h"

namespace cxr {

void run_on_every_rank(Communicator& world, const std::function<void()>& body) {
  if (world.size() == 1) return body();
  try {
    body();
  } catch (const Interrupted&) {
    if (world.rank() == 0) throw;
    throw Interrupted("rank " + std::to_string(world.rank()) + " stopped with rank 0");
  } catch (const Error& e) {
    std::fprintf(stderr, "cxrtune: error (rank %d of %d): %s\n", world.rank(), world.size(), e.what());
    std::fflush(stderr);
    world.abort(e.exit_code());
    throw;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cxrtune: internal error (rank %d of %d): %s\n", world.rank(), world.size(), e.what());
    std::fflush(stderr);
    world.abort(3);
    throw;
  }
}

}  // namespace cxr
