#include "plugins/reference/reference_backend.h"

namespace cxr {

std::unique_ptr<Backend> make_reference_backend(int threads) {
  return std::make_unique<ReferenceBackend>(threads);
}

}  // namespace cxr
