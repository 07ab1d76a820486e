// Test and fuzz helper: torch.save-style zip checkpoints built by hand, so that any storage size,
// offset, size and stride a hostile file could declare can be declared. The layout is what
// torch.save writes (tests/weights/make_weights.py shows it): archive/data.pkl, a protocol-2
// pickle of {name: _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())} whose
// storages are persistent ids ('storage', torch.<Type>Storage, key, 'cpu', numel), and one stored
// (uncompressed) entry archive/data/<key> of raw little-endian bytes per storage. The entry's
// bytes are given separately, so a file can lie about how many it holds.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cxr::fixture {

struct PthTensor {
  std::string name = "w";
  std::string storage_key = "0";
  std::string storage_type = "FloatStorage";
  int64_t storage_numel = 0;  // what the pickle declares, not necessarily what the entry holds
  int64_t offset = 0;
  std::vector<int64_t> size, stride;
};

// The pickle of a plain dict {name: tensor}, in the given order.
std::string pth_pickle(const std::vector<PthTensor>& tensors);

// The whole zip image: data.pkl from `tensors`, and archive/data/<key> for every entry of
// `storages` (key -> raw bytes), stored as torch.save stores them or deflated. Throws
// std::runtime_error if libzip fails.
std::string pth_zip(const std::vector<PthTensor>& tensors, const std::map<std::string, std::string>& storages,
                    bool deflate = false);

// Rewrites the uncompressed size that the local header and the central directory record for
// `entry` (a zip that lies about what an entry holds). Throws std::runtime_error if not found.
void set_entry_size(std::string& zip, const std::string& entry, uint32_t size);

// Raw little-endian bytes of values, as a storage entry holds them.
std::string f32_bytes(const std::vector<float>& values);
std::string u16_bytes(const std::vector<uint16_t>& values);  // float16 / bfloat16 bit patterns

void write_bytes(const std::string& path, std::string_view bytes);

}  // namespace cxr::fixture
