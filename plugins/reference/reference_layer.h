// Shared plumbing of the reference layers: plain f32 tensors in, double math (kernels.h), plain
// f32 out. The reference backend is the truth for tests, not a training engine: it converts and
// allocates freely.
#pragma once
#include <string>
#include <vector>

#include "engine/backend.h"
#include "core/errors.h"
#include "engine/layer.h"
#include "plugins/reference/kernels.h"

namespace cxr::ref {

inline std::vector<double> to_double(const Tensor& t) {
  const float* p = t.data_as<const float>();
  return std::vector<double>(p, p + t.numel());
}

inline void store(const std::vector<double>& v, Tensor& t) {
  float* p = t.data_as<float>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<float>(v[i]);
}

inline void require_plain(std::span<const TensorDesc> inputs, const std::string& what) {
  for (const TensorDesc& d : inputs)
    if (!d.layout || !d.layout->is_plain() || d.dtype != DType::F32)
      throw GraphError(what + " (reference): needs plain f32 inputs, got " + d.str());
}

inline std::vector<Shape> shapes_of(std::span<const TensorDesc> inputs) {
  std::vector<Shape> s;
  for (const TensorDesc& d : inputs) s.push_back(d.shape);
  return s;
}

inline Dims4 dims4(const Shape& s) { return {s[0], s[1], s[2], s[3]}; }

}  // namespace cxr::ref
