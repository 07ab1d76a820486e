// The reference backend: host memory, plain layouts, the HostBackend services.
#pragma once
#include <memory>

#include "engine/backend.h"

namespace cxr {

class ReferenceBackend final : public HostBackend {
 public:
  using HostBackend::HostBackend;
  std::string name() const override { return "reference"; }
};

std::unique_ptr<Backend> make_reference_backend(int threads);

}  // namespace cxr
