// Overflow-checked int64 arithmetic for the sizes, strides, offsets and element counts a weights
// file declares. A file can declare any int64, and a product or sum that wraps can pass the very
// bounds check it should fail: size [3] with stride [2^62 + 2^40] once wrapped to a negative
// extent and sent a memcpy 4 TiB past its storage. Every product or sum of declared values in
// io/weights goes through these, so that no such value is ever used before it is known to fit.
#pragma once
#include <cstdint>

namespace cxr {

// *out = a · b; false (and *out unspecified) when the product does not fit int64.
[[nodiscard]] inline bool checked_mul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }

// *out = a + b; false (and *out unspecified) when the sum does not fit int64.
[[nodiscard]] inline bool checked_add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace cxr
