// Small helpers shared by the op definitions: arity and rank checks that name the op.
#pragma once
#include <span>
#include <string>

#include "core/errors.h"
#include "engine/shape.h"

namespace cxr::ops {

inline void expect_inputs(const std::string& op, std::span<const Shape> in, size_t n) {
  if (in.size() != n)
    throw GraphError(op + ": expects " + std::to_string(n) + " input(s), got " +
                     std::to_string(in.size()));
}

inline void expect_rank(const std::string& op, const Shape& s, size_t rank, const char* what) {
  if (s.size() != rank)
    throw GraphError(op + ": " + what + " must have rank " + std::to_string(rank) + ", got " +
                     to_string(s));
}

}  // namespace cxr::ops
