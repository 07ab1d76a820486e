// batchnorm2d's test cases (plain and fused ReLU; odd sizes, 17 channels, a 1×1 map) and the
// state every implementation creates.
#include "engine/ops/batchnorm2d.h"

#include "engine/backend.h"
#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

std::vector<OpCase> batchnorm2d_cases() {
  std::vector<OpCase> out;
  for (bool relu : {false, true})
    for (Shape s : {Shape{4, 16, 5, 3}, Shape{2, 17, 4, 4}, Shape{3, 5, 1, 1}}) {
      auto p = std::make_shared<BatchNorm2dParams>();
      p->channels = s[1];
      p->fuse_relu = relu;
      out.push_back(make_case(p, {s}));
    }
  return out;
}

}  // namespace

OpInfo batchnorm2d_op_info() { return {"batchnorm2d", batchnorm2d_cases}; }

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
