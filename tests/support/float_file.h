// Reading the raw little-endian float32 files the PyTorch oracle scripts write (weights, inputs,
// expected tensors). Header-only, so that the engine-only test folders (engine/, oracle/), which do
// not build tests/support's library, can use it too.
#pragma once
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace cxr::test {

// The file's floats; empty when it cannot be read.
inline std::vector<float> read_floats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace cxr::test
