// NumPy .npy files (format version 1.0, numpy/lib/format.py): the magic "\x93NUMPY", version
// bytes 1 0, a little-endian uint16 header length, an ASCII header dict
// "{'descr': '<f4', 'fortran_order': False, 'shape': (d0, d1, ), }" padded with spaces and
// ended by '\n' so that the data starts at a multiple of 64 bytes, then the values as
// little-endian float32 in C (row-major) order. np.load reads them as they are written.
// Written in one plain write (not fsynced: predict writes thousands of them; a killed run may
// leave a short file, which np.load refuses). RuntimeFailure naming the path on an I/O error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

// The whole file's bytes: header and data. `shape` may be empty (a scalar) and must hold
// `numel(shape)` values in `values`; UsageError otherwise.
std::string npy_f32_bytes(const std::vector<int64_t>& shape, const float* values, int64_t count);

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* values, int64_t count);

}  // namespace cxr
