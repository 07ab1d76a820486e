// Helpers for the test cases each op definition lists (engine/ops/<op>.cpp, `<op>_op_info()`):
// the registry-wide gradcheck and parity sweeps (plugins/checks) run every case on every backend.
#pragma once
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "engine/layer_registry.h"

namespace cxr::ops {

inline OpCase make_case(std::shared_ptr<const OpParams> params, std::vector<Shape> inputs) {
  OpCase c;
  c.params = std::move(params);
  c.inputs = std::move(inputs);
  return c;
}

// Elementwise shapes: odd spatial sizes, channels that are and are not multiples of 16 (blocked
// layouts pad), batch 1, a 1×1 map.
inline std::vector<Shape> elementwise_shapes() { return {{2, 16, 5, 7}, {1, 17, 3, 3}, {3, 32, 1, 1}}; }

inline std::vector<OpCase> unary_cases(std::shared_ptr<const OpParams> p) {
  std::vector<OpCase> out;
  for (const Shape& s : elementwise_shapes()) out.push_back(make_case(p, {s}));
  return out;
}

}  // namespace cxr::ops
