// libFuzzer target: the safetensors header parser, the restricted unpickler and the .pth
// reader's tensor checks must refuse any input with a UsageError — never crash, hang, over-read
// or allocate without bound.
//
// Every input goes to the first two as it is. An input of at least 17 bytes also declares one
// .pth tensor, which is built into a valid zip + pickle (pth_builder) and read from memory, so
// that the fuzzer searches storage sizes, offsets, sizes and strides directly instead of through
// the zip and pickle encodings:
//   byte 0      bits 0-2: storage type (Float, Half, BFloat16, Long, Double: Double is refused)
//               bit 3: a second tensor views the whole storage too (the shared-storage path)
//               bit 4: the storage entry is the input's tail as is, whatever was declared
//               bits 5-7: rank, 0 to 4 (mod 5)
//   bytes 1-8   storage numel, int64 little-endian
//   bytes 9-16  storage offset
//   then rank sizes and rank strides (int64 each); the rest fills the storage's bytes.
// Without bit 4 the entry holds exactly the declared bytes (the tail repeated) when they are at
// most 1 MiB, and the tail otherwise, which the reader must refuse.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.h"
#include "io/input_limits.h"
#include "io/weights/pth_reader.h"
#include "io/weights/safetensors.h"
#include "io/weights/unpickler.h"
#include "tests/weights/pth_builder.h"

namespace {

int64_t le64(std::string_view b, size_t at) {
  uint64_t u = 0;
  for (size_t i = 8; i-- > 0;) u = (u << 8) | static_cast<uint8_t>(b[at + i]);
  return static_cast<int64_t>(u);
}

void fuzz_pth(std::string_view in, const cxr::InputLimits& limits) {
  static const std::pair<const char*, int64_t> types[] = {
      {"FloatStorage", 4}, {"HalfStorage", 2}, {"BFloat16Storage", 2}, {"LongStorage", 8}, {"DoubleStorage", 8}};
  if (in.size() < 17) return;
  const auto flags = static_cast<uint8_t>(in[0]);
  const auto& [type, elem] = types[(flags & 7) % 5];
  const size_t rank = static_cast<size_t>((flags >> 5) % 5);
  if (in.size() < 17 + 16 * rank) return;
  cxr::fixture::PthTensor t;
  t.storage_type = type;
  t.storage_numel = le64(in, 1);
  t.offset = le64(in, 9);
  for (size_t d = 0; d < rank; ++d) t.size.push_back(le64(in, 17 + 8 * d));
  for (size_t d = 0; d < rank; ++d) t.stride.push_back(le64(in, 17 + 8 * (rank + d)));
  const std::string_view tail = in.substr(17 + 16 * rank);

  std::string entry(tail);
  int64_t declared = 0;
  if (!(flags & 0x10) && t.storage_numel >= 0 && !__builtin_mul_overflow(t.storage_numel, elem, &declared) &&
      declared <= (int64_t{1} << 20)) {
    entry.resize(static_cast<size_t>(declared));
    for (size_t i = tail.size(); i < entry.size(); ++i) entry[i] = tail.empty() ? '\0' : tail[i % tail.size()];
  }
  std::vector<cxr::fixture::PthTensor> tensors{t};
  if (flags & 8) {
    cxr::fixture::PthTensor whole = t;
    whole.name = "whole";
    whole.offset = 0;
    whole.size = {t.storage_numel};
    whole.stride = {1};
    tensors.push_back(whole);
  }
  try {
    cxr::parse_pth(cxr::fixture::pth_zip(tensors, {{"0", entry}}), "fuzz.pth", limits);
  } catch (const cxr::UsageError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Small enough that no accepted input can take the fuzzer's memory (a stride-0 view is legal).
  cxr::InputLimits limits;
  limits.max_tensor_bytes = int64_t{1} << 20;
  try {
    cxr::parse_safetensors(bytes, "fuzz", limits);
  } catch (const cxr::UsageError&) {
  }
  try {
    cxr::pickle::load(bytes, "fuzz");
  } catch (const cxr::UsageError&) {
  }
  fuzz_pth(bytes, limits);
  return 0;
}
