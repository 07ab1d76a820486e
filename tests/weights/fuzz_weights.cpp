// libFuzzer target: the safetensors header parser and the restricted unpickler must refuse any
// input with a UsageError — never crash, hang, over-read or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/errors.h"
#include "io/weights/safetensors.h"
#include "io/weights/unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    cxr::parse_safetensors(bytes, "fuzz");
  } catch (const cxr::UsageError&) {
  }
  try {
    cxr::pickle::load(bytes, "fuzz");
  } catch (const cxr::UsageError&) {
  }
  return 0;
}
