#include "plugins/ops/batchnorm2d.h"

#include "engine/backend.h"

namespace cxr::ops {

void create_batchnorm_state(const BatchNorm2dParams& p, Backend& backend, std::vector<Parameter>& parameters,
                            std::vector<Buffer>& buffers) {
  parameters.push_back(make_parameter(backend, "weight", {p.channels}, false));
  parameters.push_back(make_parameter(backend, "bias", {p.channels}, false));
  const std::vector<float> ones(static_cast<size_t>(p.channels), 1.0f);
  backend.write_plain(parameters[0].value, ones.data());
  buffers.push_back({"running_mean", backend.allocate(plain_desc({p.channels}))});
  buffers.push_back({"running_var", backend.allocate(plain_desc({p.channels}))});
  backend.write_plain(buffers[1].value, ones.data());
  buffers.push_back({"num_batches_tracked", host_tensor({}, DType::I64)});
}

}  // namespace cxr::ops
