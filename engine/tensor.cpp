#include "engine/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/errors.h"

namespace cxr {

int64_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::I64: return 8;
  }
  return 0;
}

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
    case DType::I64: return "i64";
  }
  return "?";
}

DType precision_dtype(const std::string& name) {
  if (name == "f32") return DType::F32;
  if (name == "bf16") return DType::BF16;
  if (name == "f16") return DType::F16;
  throw UsageError("precision '" + name + "': expected f32, bf16 or f16");
}

std::string to_string(Device device) { return device == Device::Cpu ? "cpu" : "cuda"; }

PlainLayout::PlainLayout(const Shape& shape, DType dtype)
    : bytes_(numel(shape) * dtype_size(dtype)) {}

bool PlainLayout::same_as(const Layout& other) const {
  return other.is_plain() && other.bytes() == bytes_;
}

bool TensorDesc::same_as(const TensorDesc& other) const {
  if (shape != other.shape || dtype != other.dtype) return false;
  if (!layout || !other.layout) return layout == other.layout;
  return layout->same_as(*other.layout);
}

std::string TensorDesc::str() const {
  return to_string(shape) + " " + to_string(dtype) + " " + (layout ? layout->name() : "none");
}

TensorDesc plain_desc(const Shape& shape, DType dtype) {
  return TensorDesc{shape, dtype, std::make_shared<PlainLayout>(shape, dtype)};
}

Tensor Tensor::owning(TensorDesc desc, Device device, void* data, Deleter deleter) {
  Tensor t;
  t.desc_ = std::move(desc);
  t.device_ = device;
  t.data_ = data;
  t.deleter_ = std::move(deleter);
  return t;
}

Tensor Tensor::view(TensorDesc desc, Device device, void* data) {
  return owning(std::move(desc), device, data, nullptr);
}

Tensor::Tensor(Tensor&& other) noexcept { *this = std::move(other); }

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  if (this != &other) {
    if (deleter_ && data_) deleter_(data_);
    desc_ = std::move(other.desc_);
    device_ = other.device_;
    data_ = other.data_;
    deleter_ = std::move(other.deleter_);
    other.data_ = nullptr;
    other.deleter_ = nullptr;
  }
  return *this;
}

Tensor::~Tensor() {
  if (deleter_ && data_) deleter_(data_);
}

namespace {
std::atomic<int64_t> host_live_bytes{0};
}  // namespace

Tensor host_allocate(const TensorDesc& desc) {
  const int64_t bytes = desc.bytes();
  const size_t rounded = static_cast<size_t>((bytes + 63) / 64 * 64);
  const size_t size = rounded == 0 ? 64 : rounded;
  void* p = std::aligned_alloc(64, size);
  if (!p) throw RuntimeFailure("out of host memory allocating " + desc.str());
  std::memset(p, 0, size);
  host_live_bytes += static_cast<int64_t>(size);
  return Tensor::owning(desc, Device::Cpu, p, [size](void* q) {
    host_live_bytes -= static_cast<int64_t>(size);
    std::free(q);
  });
}

int64_t host_tensor_bytes() { return host_live_bytes.load(); }

Tensor host_tensor(const Shape& shape, DType dtype) { return host_allocate(plain_desc(shape, dtype)); }

}  // namespace cxr
