#include "io/weights/state_dict.h"

#include <cmath>
#include <cstring>

#include "core/errors.h"

namespace cxr {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);  // zero or subnormal
  } else if (exp == 31) {
    f = mant ? std::nanf("") : INFINITY;
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -f : f;
}

float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

namespace {

// All-ones exponent: infinity when the mantissa is zero, NaN otherwise. Bit tests, so that no
// float operation (and no -ffast-math) is involved.
template <class Bits>
void check_bits(const NamedTensor& t, Bits exponent, Bits mantissa, const std::string& what) {
  const size_t n = t.bytes.size() / sizeof(Bits);
  for (size_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, t.bytes.data() + i * sizeof(Bits), sizeof(Bits));
    if ((b & exponent) == exponent)
      throw UsageError(what + ((b & mantissa) ? " holds NaN" : " holds an infinite value") + " at element " +
                       std::to_string(i) + " (weights must be finite numbers)");
  }
}

}  // namespace

void check_finite(const NamedTensor& t, const std::string& what) {
  switch (t.dtype) {
    case DType::F32: return check_bits<uint32_t>(t, 0x7f800000u, 0x007fffffu, what);
    case DType::F16: return check_bits<uint16_t>(t, 0x7c00u, 0x03ffu, what);
    case DType::BF16: return check_bits<uint16_t>(t, 0x7f80u, 0x007fu, what);
    case DType::I64: return;
  }
}

std::vector<float> NamedTensor::to_f32() const {
  const auto n = static_cast<size_t>(numel());
  if (bytes.size() != n * static_cast<size_t>(dtype_size(dtype)))
    throw UsageError("tensor " + name + ": " + std::to_string(bytes.size()) + " bytes for shape " +
                     to_string(shape) + " " + to_string(dtype));
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::F32: std::memcpy(&out[i], bytes.data() + 4 * i, 4); break;
      case DType::F16: {
        uint16_t h;
        std::memcpy(&h, bytes.data() + 2 * i, 2);
        out[i] = half_to_float(h);
        break;
      }
      case DType::BF16: {
        uint16_t b;
        std::memcpy(&b, bytes.data() + 2 * i, 2);
        out[i] = bfloat16_to_float(b);
        break;
      }
      case DType::I64: {
        int64_t v;
        std::memcpy(&v, bytes.data() + 8 * i, 8);
        out[i] = static_cast<float>(v);
        break;
      }
    }
  }
  return out;
}

NamedTensor NamedTensor::from_f32(std::string name, Shape shape, const float* data) {
  NamedTensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.dtype = DType::F32;
  t.bytes.resize(static_cast<size_t>(t.numel()) * 4);
  std::memcpy(t.bytes.data(), data, t.bytes.size());
  return t;
}

const NamedTensor* StateDict::find(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace cxr
