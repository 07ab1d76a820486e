// The oneDNN CPU backend: one dnnl::engine and stream, blocked activation layouts (OnednnLayout
// wraps a dnnl::memory::desc), one shared user scratchpad, and write/read of plain data through
// reorders. Layers keep activations in oneDNN's preferred layouts end to end; plain layouts
// appear only at the network's edges (input image, flatten, logits).
#pragma once
#include <memory>
#include <string>

#include <dnnl.hpp>

#include "engine/backend.h"

namespace cxr {

// A oneDNN memory descriptor as a cxr::Layout.
class OnednnLayout final : public Layout {
 public:
  explicit OnednnLayout(dnnl::memory::desc md) : md_(std::move(md)) {}
  std::string name() const override;
  int64_t bytes() const override { return static_cast<int64_t>(md_.get_size()); }
  bool is_plain() const override { return false; }
  bool same_as(const Layout& other) const override;
  const dnnl::memory::desc& md() const { return md_; }

 private:
  dnnl::memory::desc md_;
};

class OnednnBackend final : public HostBackend {
 public:
  // `compute`: F32, or BF16 (needs AVX512_BF16 or AMX; UsageError otherwise).
  // `winograd`: 3×3 stride-1 f32 convolutions use Winograd F(4×4, 3×3) where oneDNN has it.
  OnednnBackend(int threads, DType compute, bool winograd = false);
  std::string name() const override { return "onednn"; }
  DType compute_dtype() const override { return compute_; }
  std::string describe() const override;
  TensorDesc activation_desc(const Shape& shape) const override;
  void write_plain(Tensor& dst, const float* src) override;
  void read_plain(const Tensor& src, float* dst) override;

  // Whether this CPU computes bf16 natively (AVX512_BF16 or AMX).
  static bool has_native_bf16();
  // "onednn avx2", "onednn avx512_core_bf16", ...: the ISA oneDNN dispatches to. describe() adds
  // the precision, the activation blocking and "winograd" when on: "onednn avx2, f32, nChw8c".
  static std::string isa_name();

  // The layout convolutions write activations in (every other layer then keeps it):
  // - f32, and bf16 without AMX: channels in blocks of the CPU's vector width, nChw16c with
  //   AVX-512 and nChw8c below it. oneDNN's jit convolutions and BN take only their own ISA's
  //   blocking; given the other they run reference loops (measured on a Zen 3 with AVX2: 79 of 79
  //   convolutions "ref:any", ~20 s per ResNet-18 step at 32 px). On AVX-512 without AMX, nhwc
  //   (brgconv) ran the same convolutions within 1 % (ResNet-50 shapes, 2 threads, f32 and bf16).
  // - bf16 where the CPU has AMX: nhwc. oneDNN 2.6's AMX convolutions (brgconv, jit amx) take only
  //   nhwc; given nChw16c it runs the AVX512_BF16 kernels. Measured on a Xeon with AMX (family 6
  //   model 167, 2 threads, ResNet-50 shapes at batch 32, non-zero data): forward 203–928 GFLOP/s
  //   against 56–105, backward data 200–904 against 56–112; ResNet-50 bf16 inference 2.8×.
  dnnl::memory::format_tag activation_tag() const { return activation_tag_; }
  // Whether oneDNN dispatches to AMX (avx512_core_amx) on this CPU.
  static bool has_amx();
  bool winograd() const { return winograd_; }

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }

  // One scratchpad shared by all layers (they run one at a time): grown in prepare(), read at
  // execution (the pointer may change while other layers prepare).
  void reserve_scratchpad(size_t bytes);
  void* scratchpad() const { return scratchpad_.data(); }
  // One more shared buffer, for weights in transit inside a single forward() or backward()
  // (a kernel-layout copy for backward data, a weight gradient before its reorder to plain,
  // folded eval weights), so that no layer keeps one of its own. Same rules as the scratchpad.
  void reserve_weight_scratch(size_t bytes);
  void* weight_scratch() const { return weight_scratch_.data(); }
  // And one for activations in transit inside a single backward(): a convolution's input and
  // output gradient in another layout for its weight gradient (conv2d_onednn.cpp says when).
  void reserve_activation_scratch(size_t bytes);
  void* activation_scratch() const { return activation_scratch_.data(); }
  int64_t shared_scratch_bytes() const override {
    int64_t bytes = 0;
    for (const Tensor* t : {&scratchpad_, &weight_scratch_, &activation_scratch_}) bytes += t->defined() ? t->bytes() : 0;
    return bytes;
  }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  DType compute_;
  bool winograd_;
  const dnnl::memory::format_tag activation_tag_;
  Tensor scratchpad_, weight_scratch_, activation_scratch_;
};

std::unique_ptr<Backend> make_onednn_backend(int threads, DType compute = DType::F32, bool winograd = false);

}  // namespace cxr
