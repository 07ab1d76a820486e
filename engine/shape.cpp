#include "engine/shape.h"

#include <limits>

#include "core/errors.h"

namespace cxr {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw UsageError("negative dimension in shape " + to_string(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw UsageError("element count of shape " + to_string(shape) + " overflows int64");
    n *= d;
  }
  return n;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace cxr
