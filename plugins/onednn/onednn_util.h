// Helpers of the oneDNN layers: descriptors between cxr::TensorDesc and dnnl::memory::desc,
// bound memory objects whose data handle is set at execution (nothing is allocated in the step
// loop), and error translation with the primitive kind and shapes.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include <dnnl.hpp>

#include "core/errors.h"
#include "engine/layer.h"
#include "plugins/onednn/onednn_backend.h"

namespace cxr::dnn {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::memory::dims dims_of(const Shape& shape);
dt dt_of(DType dtype);
DType dtype_of(dt type);
// The plain (row-major) descriptor of a shape: a, ab, abc or abcd.
dnnl::memory::desc plain_md(const Shape& shape, dt type = dt::f32);
// The oneDNN descriptor of a tensor descriptor (plain or OnednnLayout).
dnnl::memory::desc md_of(const TensorDesc& desc);
// A tensor descriptor for `md`: PlainLayout when md is the plain layout of `shape`.
TensorDesc desc_of(const dnnl::memory::desc& md, const Shape& shape);

// Runs `build` (primitive-descriptor creation); a dnnl::error becomes a BackendError naming the
// primitive kind, the layer and the input descriptor.
template <class F>
auto checked(const std::string& kind, const std::string& layer, const std::string& shapes, F&& build) {
  try {
    return build();
  } catch (const dnnl::error& e) {
    throw BackendError("oneDNN " + kind + " for " + layer + " (" + shapes + "): " + e.what() +
                       " [status " + std::to_string(static_cast<int>(e.status)) + "]");
  }
}

// A primitive with its argument map; memories are created once and re-pointed per execution.
class Op {
 public:
  Op() = default;
  Op(dnnl::primitive prim, std::string kind) : prim_(std::move(prim)), kind_(std::move(kind)) {}
  // Declares argument `arg` with descriptor `md` (data handle set later with bind()).
  void arg(int arg, const dnnl::memory::desc& md, dnnl::engine& eng);
  void bind(int arg, const void* data) { args_.at(arg).set_data_handle(const_cast<void*>(data)); }
  void run(dnnl::stream& stream, const std::string& layer);
  explicit operator bool() const { return static_cast<bool>(prim_); }

 private:
  dnnl::primitive prim_;
  std::string kind_;
  std::unordered_map<int, dnnl::memory> args_;
};

// A reorder between two descriptors, as an Op with DNNL_ARG_FROM / DNNL_ARG_TO.
Op make_reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to, dnnl::engine& eng,
                const std::string& layer);

// A matmul c = a · b (descriptors with their strides), as an Op with DNNL_ARG_SRC / WEIGHTS / DST
// and the backend's shared scratchpad (reserved here). `what` names it in errors.
Op make_matmul(const dnnl::memory::desc& a, const dnnl::memory::desc& b, const dnnl::memory::desc& c,
               OnednnBackend& backend, const std::string& what, const std::string& layer);

// Cast of the backend a layer is created with.
OnednnBackend& onednn(Backend& backend);
// The oneDNN type activations are computed in on this backend (train.precision).
inline dt compute_dt(const OnednnBackend& backend) { return dt_of(backend.compute_dtype()); }

// A layer running one oneDNN eltwise algorithm in its input's layout (relu; plugins: gelu_erf...).
std::unique_ptr<Layer> make_eltwise_onednn(Backend& backend, dnnl::algorithm alg, const std::string& name);

// Primitive attributes with a user-managed scratchpad.
dnnl::primitive_attr user_scratchpad();

}  // namespace cxr::dnn
