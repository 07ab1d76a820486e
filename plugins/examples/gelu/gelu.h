// Example out-of-tree plugin op: GELU, y = x·Φ(x) (exact erf form, torch.nn.GELU()).
// Built as a shared library that cxrtune loads with `--plugin libcxrtune_gelu.so`; it registers
// the op (with test cases) and a reference and a oneDNN implementation, exactly as an in-tree
// op does. Any shape; the output keeps the input's descriptor.
#pragma once
#include <cmath>

#include "engine/layer.h"
#include "engine/ops/op_util.h"

namespace cxr::gelu {

struct GeluParams final : OpParams {
  std::string op() const override { return "gelu"; }
  std::unique_ptr<OpParams> clone() const override { return std::make_unique<GeluParams>(*this); }
  Shape output_shape(std::span<const Shape> in) const {
    ops::expect_inputs(op(), in, 1);
    return in[0];
  }
};

// y = x Φ(x); dy/dx = Φ(x) + x φ(x).
inline double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
inline double gelu_grad(double x) {
  const double cdf = 0.5 * (1.0 + std::erf(x / std::sqrt(2.0)));
  const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
  return cdf + x * pdf;
}

std::unique_ptr<Layer> make_gelu_reference(const OpParams& params, Backend& backend);
#ifdef CXRTUNE_HAVE_ONEDNN
std::unique_ptr<Layer> make_gelu_onednn(const OpParams& params, Backend& backend);
#endif

}  // namespace cxr::gelu
