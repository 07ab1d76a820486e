#include "engine/communicator.h"

#include <stdexcept>

namespace cxr {

std::unique_ptr<Communicator> Communicator::duplicate() {
  throw std::logic_error(describe() + ": this communicator cannot be duplicated");
}

void broadcast_string(Communicator& comm, std::string& s, int root) {
  if (comm.size() == 1) return;
  int64_t n = static_cast<int64_t>(s.size());
  comm.broadcast(&n, sizeof n, root);
  s.resize(static_cast<size_t>(n));
  if (n > 0) comm.broadcast(s.data(), n, root);
}

}  // namespace cxr
