// StateDict: named tensors as they come from or go to a weights file, in file order. Host
// memory, row-major, in the file's dtype (F32, F16, BF16, I64); to_f32() converts.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/shape.h"
#include "engine/tensor.h"

namespace cxr {

struct NamedTensor {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::vector<uint8_t> bytes;  // numel × dtype_size, row-major

  int64_t numel() const { return cxr::numel(shape); }
  std::vector<float> to_f32() const;   // F16/BF16/I64 converted
  static NamedTensor from_f32(std::string name, Shape shape, const float* data);
};

struct StateDict {
  std::vector<NamedTensor> tensors;
  std::map<std::string, std::string> metadata;  // safetensors __metadata__

  const NamedTensor* find(const std::string& name) const;
  void add(NamedTensor t) { tensors.push_back(std::move(t)); }
};

// Refuses NaN and infinity in an F32, F16 or BF16 tensor (I64 holds neither): one in a weights
// file would poison training from its first step. `what` names the file and the tensor; the
// UsageError reads "<what> holds NaN at element <i>" (or "an infinite value").
void check_finite(const NamedTensor& t, const std::string& what);

float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

}  // namespace cxr
