// Shapes are logical dimensions, int64, outermost first (NCHW for images, NC for logits),
// independent of the physical layout a backend stores them in.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

using Shape = std::vector<int64_t>;

// Number of elements; throws UsageError when the product overflows int64 or a dim is negative
// (shapes can come from files, and a header can lie).
int64_t numel(const Shape& shape);

// "[4, 64, 56, 56]"
std::string to_string(const Shape& shape);

}  // namespace cxr
