// Backend: the memory and elementwise services of one device implementation ("reference",
// "onednn", "cudnn"). Layers of a backend are created from the LayerRegistry with it; a network
// is built for exactly one backend, chosen once (no global mode switch).
//
// Parameters, gradients and optimizer state are plain-layout tensors in the backend's memory;
// activations may use the backend's own layouts (see tensor.h).
#pragma once
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace cxr {

// One optimizer update over one parameter tensor, PyTorch semantics (torch.optim).
struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool decoupled = false;  // AdamW: p *= 1 - lr*wd; Adam: g += wd*p
  int64_t step = 1;        // 1-based step count for bias correction
};
struct SgdStep {
  double lr = 1e-2, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
  bool first_step = true;  // momentum buffer is initialised to g on the first step
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Device device() const = 0;
  virtual int threads() const { return 1; }
  // The dtype layers compute in (train.precision): F32, or BF16/F16 on backends that support
  // them. Parameters, gradients and optimizer state stay F32 plain whatever it is (master
  // weights); activations may use it. Layers ask their backend, the engine never converts.
  virtual DType compute_dtype() const { return DType::F32; }
  // What it runs on, for logs and reports: "onednn avx512_core_bf16", "cudnn NVIDIA H100".
  virtual std::string describe() const { return name(); }

  // The layout this backend's layers produce for activations of `shape` (blocked on oneDNN,
  // NHWC on the GPU); plain by default. Tests use it to feed layers what a network would.
  virtual TensorDesc activation_desc(const Shape& shape) const { return plain_desc(shape); }

  // Zero-filled memory for `desc` (any layout this backend understands).
  virtual Tensor allocate(const TensorDesc& desc) = 0;
  // Copy `numel` floats of row-major data into / out of a tensor of any layout of this backend.
  virtual void write_plain(Tensor& dst, const float* src) = 0;
  virtual void read_plain(const Tensor& src, float* dst) = 0;
  virtual void zero(Tensor& t) = 0;
  // Bytes of buffers the backend shares among its layers (scratchpads), for memory breakdowns.
  virtual int64_t shared_scratch_bytes() const { return 0; }
  // Waits for queued device work (no-op on the CPU).
  virtual void synchronize() {}

  // Elementwise services over plain f32 tensors (parameters, gradients, optimizer state).
  virtual double sum_squares(const Tensor& t) = 0;  // accumulated in double
  virtual bool all_finite(const Tensor& t) = 0;
  virtual void scale(Tensor& t, double factor) = 0;  // t *= factor (gradient clipping)
  virtual void adam_update(const AdamStep& s, Tensor& param, const Tensor& grad, Tensor& m,
                           Tensor& v) = 0;
  virtual void sgd_update(const SgdStep& s, Tensor& param, const Tensor& grad, Tensor& momentum) = 0;
  virtual void copy(const Tensor& src, Tensor& dst) = 0;  // same desc
};

// Services shared by backends whose memory is host memory (reference, oneDNN). Plain layouts
// only; a backend with blocked layouts overrides write_plain/read_plain.
class HostBackend : public Backend {
 public:
  explicit HostBackend(int threads) : threads_(threads) {}
  Device device() const override { return Device::Cpu; }
  int threads() const override { return threads_; }
  Tensor allocate(const TensorDesc& desc) override;
  void write_plain(Tensor& dst, const float* src) override;
  void read_plain(const Tensor& src, float* dst) override;
  void zero(Tensor& t) override;
  double sum_squares(const Tensor& t) override;
  bool all_finite(const Tensor& t) override;
  void scale(Tensor& t, double factor) override;
  void adam_update(const AdamStep& s, Tensor& param, const Tensor& grad, Tensor& m,
                   Tensor& v) override;
  void sgd_update(const SgdStep& s, Tensor& param, const Tensor& grad, Tensor& momentum) override;
  void copy(const Tensor& src, Tensor& dst) override;

 private:
  int threads_;
};

}  // namespace cxr
