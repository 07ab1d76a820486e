#include "io/npy_writer.h"

#include <bit>
#include <cstring>
#include <fstream>

#include "core/errors.h"

namespace cxr {

std::string npy_f32_bytes(const std::vector<int64_t>& shape, const float* values, int64_t count) {
  int64_t numel = 1;
  std::string dims;
  for (int64_t d : shape) {
    if (d < 0) throw UsageError("npy: negative dimension " + std::to_string(d));
    numel *= d;
    dims += std::to_string(d) + ", ";
  }
  if (numel != count)
    throw UsageError("npy: shape holds " + std::to_string(numel) + " values, " + std::to_string(count) + " given");
  if (shape.size() == 1) dims.pop_back();  // "(5,)" is NumPy's spelling of a 1-tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + length (2) + header + '\n': NumPy aligns the data to 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535) throw UsageError("npy: header too long for format 1.0");
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const size_t data_at = out.size();
  out.resize(data_at + static_cast<size_t>(count) * 4);
  // '<f4' is little-endian: on a big-endian host every value is byte-swapped.
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, 4);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    std::memcpy(out.data() + data_at + static_cast<size_t>(i) * 4, &bits, 4);
  }
  return out;
}

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* values, int64_t count) {
  const std::string bytes = npy_f32_bytes(shape, values, count);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw RuntimeFailure("cannot write " + path);
}

}  // namespace cxr
