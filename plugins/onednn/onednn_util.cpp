#include "plugins/onednn/onednn_util.h"

namespace cxr::dnn {

dnnl::memory::dims dims_of(const Shape& shape) {
  return dnnl::memory::dims(shape.begin(), shape.end());
}

dt dt_of(DType dtype) {
  switch (dtype) {
    case DType::F32: return dt::f32;
    case DType::BF16: return dt::bf16;
    case DType::F16: return dt::f16;
    case DType::I64: break;
  }
  throw GraphError("oneDNN backend: no oneDNN type for " + to_string(dtype));
}

DType dtype_of(dt type) {
  switch (type) {
    case dt::f32: return DType::F32;
    case dt::bf16: return DType::BF16;
    case dt::f16: return DType::F16;
    default: throw GraphError("oneDNN backend: unexpected oneDNN data type " + std::to_string(static_cast<int>(type)));
  }
}

dnnl::memory::desc plain_md(const Shape& shape, dt type) {
  static const tag tags[] = {tag::a, tag::a, tag::ab, tag::abc, tag::abcd};
  if (shape.size() > 4) throw GraphError("oneDNN backend: rank " + std::to_string(shape.size()) + " > 4");
  const Shape s = shape.empty() ? Shape{1} : shape;
  return dnnl::memory::desc(dims_of(s), type, tags[s.size()]);
}

dnnl::memory::desc md_of(const TensorDesc& desc) {
  if (desc.dtype != DType::F32 && desc.dtype != DType::BF16)
    throw GraphError("oneDNN backend: only f32 and bf16 tensors, got " + desc.str());
  if (desc.layout->is_plain()) return plain_md(desc.shape, dt_of(desc.dtype));
  const auto* layout = dynamic_cast<const OnednnLayout*>(desc.layout.get());
  if (!layout) throw GraphError("oneDNN backend: foreign layout " + desc.str());
  return layout->md();
}

TensorDesc desc_of(const dnnl::memory::desc& md, const Shape& shape) {
  const DType dtype = dtype_of(md.data_type());
  if (md == plain_md(shape, md.data_type())) return plain_desc(shape, dtype);
  return TensorDesc{shape, dtype, std::make_shared<OnednnLayout>(md)};
}

void Op::arg(int arg, const dnnl::memory::desc& md, dnnl::engine& eng) {
  args_[arg] = dnnl::memory(md, eng, DNNL_MEMORY_NONE);
}

void Op::run(dnnl::stream& stream, const std::string& layer) {
  try {
    prim_.execute(stream, args_);
  } catch (const dnnl::error& e) {
    // Name the arguments left without data: the usual cause of "could not execute".
    std::string unbound;
    for (auto& [arg, mem] : args_)
      if (!mem.get_data_handle() && mem.get_desc().get_size() > 0) unbound += " " + std::to_string(arg);
    throw BackendError("oneDNN " + kind_ + " in " + layer + " failed: " + e.what() +
                       (unbound.empty() ? "" : " (arguments without data:" + unbound + ")"));
  }
}

Op make_matmul(const dnnl::memory::desc& a, const dnnl::memory::desc& b, const dnnl::memory::desc& c,
               OnednnBackend& backend, const std::string& what, const std::string& layer) {
  auto& eng = backend.engine();
  const auto pd = checked(what, layer, "", [&] {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), user_scratchpad(), eng);
  });
  Op op(dnnl::matmul(pd), what);
  op.arg(DNNL_ARG_SRC, a, eng);
  op.arg(DNNL_ARG_WEIGHTS, b, eng);
  op.arg(DNNL_ARG_DST, c, eng);
  op.arg(DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc(), eng);
  backend.reserve_scratchpad(pd.scratchpad_desc().get_size());
  return op;
}

Op make_reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to, dnnl::engine& eng,
                const std::string& layer) {
  auto pd = checked("reorder", layer, "", [&] {
    return dnnl::reorder::primitive_desc(eng, from, eng, to);
  });
  Op op(dnnl::reorder(pd), "reorder");
  op.arg(DNNL_ARG_FROM, from, eng);
  op.arg(DNNL_ARG_TO, to, eng);
  return op;
}

OnednnBackend& onednn(Backend& backend) {
  auto* b = dynamic_cast<OnednnBackend*>(&backend);
  if (!b) throw GraphError("a oneDNN layer needs the onednn backend, got '" + backend.name() + "'");
  return *b;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

}  // namespace cxr::dnn
