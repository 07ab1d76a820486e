// Tensor: a move-only handle on device memory with a logical shape, a dtype and a layout.
//
// The shape is always logical (NCHW for images). The layout says how a backend stores it:
// `PlainLayout` is dense row-major over the shape (the layout of files, tests and the network's
// edges); a backend may define blocked layouts (oneDNN's nChw16c, NHWC on the GPU) by
// subclassing `Layout`. The engine never looks inside a backend's layout; it only asks for the
// byte size and compares layouts.
//
// Ownership: an owning tensor frees its memory through the deleter it was created with; a view
// (`Tensor::view`) borrows memory owned elsewhere and must not outlive it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/shape.h"

namespace cxr {

enum class DType { F32, BF16, F16, I64 };
enum class Device { Cpu, Cuda };

int64_t dtype_size(DType dtype);
std::string to_string(DType dtype);
// A compute precision by name (train.precision, bench --dtype): "f32", "bf16", "f16".
DType precision_dtype(const std::string& name);
std::string to_string(Device device);

class Layout {
 public:
  virtual ~Layout() = default;
  virtual std::string name() const = 0;        // "plain", "nChw16c", ...
  virtual int64_t bytes() const = 0;           // physical size, padding included
  virtual bool is_plain() const = 0;
  virtual bool same_as(const Layout& other) const = 0;
};

// Dense row-major storage of `shape` elements of `dtype`.
class PlainLayout final : public Layout {
 public:
  PlainLayout(const Shape& shape, DType dtype);
  std::string name() const override { return "plain"; }
  int64_t bytes() const override { return bytes_; }
  bool is_plain() const override { return true; }
  bool same_as(const Layout& other) const override;

 private:
  int64_t bytes_;
};

struct TensorDesc {
  Shape shape;
  DType dtype = DType::F32;
  std::shared_ptr<const Layout> layout;

  int64_t bytes() const { return layout ? layout->bytes() : 0; }
  bool same_as(const TensorDesc& other) const;  // shape, dtype and layout all equal
  std::string str() const;                      // "[4, 64, 56, 56] f32 nChw16c"
};

// A plain (row-major) descriptor.
TensorDesc plain_desc(const Shape& shape, DType dtype = DType::F32);

class Tensor {
 public:
  using Deleter = std::function<void(void*)>;

  Tensor() = default;
  static Tensor owning(TensorDesc desc, Device device, void* data, Deleter deleter);
  static Tensor view(TensorDesc desc, Device device, void* data);

  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  ~Tensor();

  bool defined() const { return data_ != nullptr; }
  const TensorDesc& desc() const { return desc_; }
  const Shape& shape() const { return desc_.shape; }
  DType dtype() const { return desc_.dtype; }
  const Layout& layout() const { return *desc_.layout; }
  Device device() const { return device_; }
  int64_t numel() const { return cxr::numel(desc_.shape); }
  int64_t bytes() const { return desc_.bytes(); }
  int64_t dim(size_t i) const { return desc_.shape.at(i); }

  void* data() const { return data_; }
  template <class T>
  T* data_as() const { return static_cast<T*>(data_); }

  // A non-owning view of the same memory.
  Tensor alias() const { return view(desc_, device_, data_); }

 private:
  TensorDesc desc_;
  Device device_ = Device::Cpu;
  void* data_ = nullptr;
  Deleter deleter_;
};

// Host memory, 64-byte aligned, zero-filled, plain layout. For tests, loaders and losses.
Tensor host_tensor(const Shape& shape, DType dtype = DType::F32);

// 64-byte aligned zero-filled host allocation of `bytes` with a deleter; throws on failure.
Tensor host_allocate(const TensorDesc& desc);
// Bytes of host tensors alive now (host_allocate's running total; memory breakdowns).
int64_t host_tensor_bytes();

}  // namespace cxr
