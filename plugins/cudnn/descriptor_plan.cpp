#include "plugins/cudnn/descriptor_plan.h"

#include <cstdint>

#include "plugins/cudnn/cudnn_util.h"

namespace cxr::gpu {
namespace {

int as_int(int64_t v, const std::string& where, const char* what) {
  if (v < 0 || v > INT32_MAX)
    throw GraphError(where + ": " + what + " " + std::to_string(v) + " exceeds cuDNN's 32-bit limit");
  return static_cast<int>(v);
}

}  // namespace

TensorSpec tensor_spec(const TensorDesc& desc, const std::string& where) {
  TensorSpec s;
  s.format = format_of(desc, where) == Fmt::Nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  s.type = cudnn_type(desc.dtype, where);
  // Dimensions are int, and so are the strides cuDNN derives from them: the element count must
  // fit too, not only each dimension.
  as_int(numel(desc.shape), where, ("tensor " + desc.str() + " has").c_str());
  const Dims d = dims_of(desc.shape);
  s.n = as_int(d.n, where, "N");
  s.c = as_int(d.c, where, "C");
  s.h = as_int(d.h, where, "H");
  s.w = as_int(d.w, where, "W");
  return s;
}

ConvSpec conv_spec(const ops::Conv2dParams& p, const Shape& input, DType compute,
                   const std::string& where) {
  ConvSpec s;
  const Shape out = p.output_shape(std::vector<Shape>{input});
  s.x = tensor_spec(nhwc_desc(input, compute), where);
  s.y = tensor_spec(nhwc_desc(out, compute), where);
  tensor_spec(nhwc_desc(p.weight_shape(), compute), where + " (filter)");
  s.filter_type = s.x.type;
  s.k = as_int(p.out_channels, where, "output channels");
  s.c = as_int(p.in_channels, where, "input channels");
  s.r = s.s = as_int(p.kernel, where, "kernel");
  s.pad = as_int(p.padding, where, "padding");
  s.stride = as_int(p.stride, where, "stride");
  s.exact_f32 = compute == DType::F32;
  s.math = s.exact_f32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
  return s;
}

std::string conv_algo_key(const char* pass, const ConvSpec& s) {
  std::string key = pass;
  for (int v : {static_cast<int>(s.x.type), s.x.n, s.x.c, s.x.h, s.x.w, s.k, s.r, s.s, s.pad,
                s.stride, static_cast<int>(s.math)})
    key += ":" + std::to_string(v);
  return key;
}

}  // namespace cxr::gpu
