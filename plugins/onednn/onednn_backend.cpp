#include "plugins/onednn/onednn_backend.h"

#include <omp.h>

#include <dnnl_debug.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "plugins/onednn/onednn_util.h"

namespace cxr {

// "nChw16c"-style name from the blocking description: dimensions outermost first (by stride),
// upper case when also blocked, then the inner blocks.
std::string OnednnLayout::name() const {
  const dnnl_memory_desc_t& d = md_.data;
  if (d.format_kind != dnnl_blocked) return dnnl_fmt_kind2str(d.format_kind);
  const char* letters = d.ndims == 4 ? "nchw" : d.ndims == 2 ? "nc" : "abcdef";
  const auto& blk = d.format_desc.blocking;
  std::vector<int> order(static_cast<size_t>(d.ndims));
  for (int i = 0; i < d.ndims; ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return blk.strides[a] > blk.strides[b]; });
  std::string out;
  for (int i : order) {
    bool blocked = false;
    for (int k = 0; k < blk.inner_nblks; ++k) blocked |= blk.inner_idxs[k] == i;
    out += blocked ? static_cast<char>(std::toupper(letters[i])) : letters[i];
  }
  for (int k = 0; k < blk.inner_nblks; ++k) out += std::to_string(blk.inner_blks[k]) + letters[blk.inner_idxs[k]];
  return out;
}

bool OnednnLayout::same_as(const Layout& other) const {
  const auto* o = dynamic_cast<const OnednnLayout*>(&other);
  return o && o->md_ == md_;
}

namespace {

// cpu_isa values are bit sets: an ISA includes another when it has all of its bits.
bool cpu_has(dnnl::cpu_isa isa) {
  const auto have = static_cast<unsigned>(dnnl::get_effective_cpu_isa()), want = static_cast<unsigned>(isa);
  return (have & want) == want;
}

}  // namespace

OnednnBackend::OnednnBackend(int threads, DType compute, bool winograd)
    : HostBackend(threads), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), compute_(compute),
      winograd_(winograd),
      activation_tag_(compute == DType::BF16 && has_amx()      ? dnnl::memory::format_tag::nhwc
                      : cpu_has(dnnl::cpu_isa::avx512_core) ? dnnl::memory::format_tag::nChw16c
                                                            : dnnl::memory::format_tag::nChw8c) {
  // Debian's oneDNN runs on OpenMP: the thread count is the OpenMP one of this thread.
  if (threads > 0) omp_set_num_threads(threads);
  if (compute == DType::F16)
    throw UsageError("backend 'onednn': precision f16 is for GPUs; on the CPU use bf16 or f32");
  if (compute == DType::BF16 && !has_native_bf16())
    throw UsageError("backend 'onednn': precision bf16 needs a CPU with AVX512_BF16 or AMX (this one: " +
                     isa_name() + "); oneDNN would emulate it, slower than f32");
}

std::string OnednnBackend::isa_name() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core_amx: return "onednn avx512_core_amx";
    case isa::avx512_core_bf16: return "onednn avx512_core_bf16";
    case isa::avx512_core_vnni: return "onednn avx512_core_vnni";
    case isa::avx512_core: return "onednn avx512_core";
    case isa::avx2_vnni: return "onednn avx2_vnni";
    case isa::avx2: return "onednn avx2";
    default: return "onednn";
  }
}

bool OnednnBackend::has_amx() { return dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx512_core_amx; }

bool OnednnBackend::has_native_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

// The ISA oneDNN dispatches to, the precision layers compute in, the activation blocking and the
// convolution algorithm: what run_info.json's "backend" and the training progress line show.
std::string OnednnBackend::describe() const {
  std::string name = isa_name();
  using tag = dnnl::memory::format_tag;
  name += ", " + to_string(compute_) + ", " +
          (activation_tag_ == tag::nhwc ? "nhwc" : activation_tag_ == tag::nChw16c ? "nChw16c" : "nChw8c");
  if (winograd_) name += ", winograd";
  return name;
}

// The activation layout of this CPU and precision (activation_tag: blocked, or nhwc for bf16 on AMX).
TensorDesc OnednnBackend::activation_desc(const Shape& shape) const {
  if (shape.size() != 4) return plain_desc(shape);
  return dnn::desc_of(dnnl::memory::desc(dnn::dims_of(shape), dnn::dt_of(compute_), activation_tag_), shape);
}

// Reorders convert layouts and data types alike (bf16 activations from and to f32 host data).
void OnednnBackend::write_plain(Tensor& dst, const float* src) {
  if (dst.layout().is_plain() && dst.dtype() == DType::F32) return HostBackend::write_plain(dst, src);
  const auto to = dnn::md_of(dst.desc());
  const auto from = dnn::plain_md(dst.shape());
  dnnl::memory a(from, engine_, const_cast<float*>(src)), b(to, engine_, dst.data());
  dnnl::reorder(a, b).execute(stream_, a, b);
}

void OnednnBackend::read_plain(const Tensor& src, float* dst) {
  if (src.layout().is_plain() && src.dtype() == DType::F32) return HostBackend::read_plain(src, dst);
  const auto from = dnn::md_of(src.desc());
  const auto to = dnn::plain_md(src.shape());
  dnnl::memory a(from, engine_, src.data()), b(to, engine_, dst);
  dnnl::reorder(a, b).execute(stream_, a, b);
}

namespace {

// Grows a shared host buffer to at least `bytes` (never shrinks it).
void reserve(Tensor& buffer, size_t bytes) {
  if (buffer.defined() && static_cast<size_t>(buffer.bytes()) >= bytes) return;
  buffer = host_allocate(plain_desc({static_cast<int64_t>((bytes + 3) / 4)}));
}

}  // namespace

void OnednnBackend::reserve_scratchpad(size_t bytes) { reserve(scratchpad_, bytes); }
void OnednnBackend::reserve_weight_scratch(size_t bytes) { reserve(weight_scratch_, bytes); }
void OnednnBackend::reserve_activation_scratch(size_t bytes) { reserve(activation_scratch_, bytes); }

std::unique_ptr<Backend> make_onednn_backend(int threads, DType compute, bool winograd) {
  return std::make_unique<OnednnBackend>(threads, compute, winograd);
}

}  // namespace cxr
