#include "io/weights/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "io/weights/checked_math.h"
#include "io/weights/reader_errors.h"

namespace cxr {
namespace {

using nlohmann::json;

DType parse_dtype(const std::string& s, const std::string& what) {
  if (s == "F32") return DType::F32;
  if (s == "F16") return DType::F16;
  if (s == "BF16") return DType::BF16;
  if (s == "I64") return DType::I64;
  throw UsageError(what + ": unsupported dtype " + s + " (F32, F16, BF16, I64)");
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
  }
  return "?";
}

// Anything else given where a safetensors file is expected (a recipe, a .pth renamed) fails
// one of the first three checks: it says so plainly, with the precise reason after it.
StateDict parse_header_and_data(std::string_view bytes, const std::string& file, const InputLimits& limits) {
  const std::string not_safetensors = file + ": not a safetensors file (";
  if (bytes.size() < 8) throw UsageError(not_safetensors + "shorter than 8 bytes)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  if (header_len > bytes.size() - 8)
    throw UsageError(not_safetensors + "header length " + std::to_string(header_len) + " exceeds the file of " +
                     std::to_string(bytes.size()) + " bytes)");
  json header;
  try {
    header = json::parse(bytes.substr(8, header_len));
  } catch (const json::exception& e) {
    throw UsageError(not_safetensors + "header is not valid JSON: " + e.what() + ")");
  }
  if (!header.is_object()) throw UsageError(not_safetensors + "header is not a JSON object)");
  const std::string_view data = bytes.substr(8 + header_len);
  StateDict dict;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  std::vector<std::pair<uint64_t, NamedTensor>> found;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string what = file + ": tensor '" + it.key() + "'";
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw UsageError(file + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw UsageError(file + ": __metadata__." + m.key() + " is not a string");
        dict.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const json& t = *it;
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets") ||
        !t["dtype"].is_string() || !t["shape"].is_array() || !t["data_offsets"].is_array() ||
        t["data_offsets"].size() != 2)
      throw UsageError(what + ": needs dtype, shape and data_offsets [begin, end]");
    NamedTensor nt;
    nt.name = it.key();
    nt.dtype = parse_dtype(t["dtype"].get<std::string>(), what);
    for (const json& d : t["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw UsageError(what + ": shape entries must be non-negative integers");
      nt.shape.push_back(d.get<int64_t>());
    }
    int64_t count;
    try {
      count = numel(nt.shape);
    } catch (const UsageError&) {
      throw UsageError(what + ": element count of shape " + to_string(nt.shape) + " overflows");
    }
    const json& off = t["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw UsageError(what + ": data_offsets must be non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data.size())
      throw UsageError(what + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                       "] outside the data area of " + std::to_string(data.size()) + " bytes");
    const int64_t size = dtype_size(nt.dtype);
    int64_t need = 0;
    if (!checked_mul(count, size, &need) || static_cast<uint64_t>(need) != end - begin)
      throw UsageError(what + ": shape " + to_string(nt.shape) + " needs " + std::to_string(count) + " × " +
                       std::to_string(size) + " bytes, data_offsets give " + std::to_string(end - begin));
    if (need > limits.max_tensor_bytes)
      throw UsageError(what + " of shape " + to_string(nt.shape) + " takes " + std::to_string(need) +
                       " bytes, more than the limit of " + std::to_string(limits.max_tensor_bytes) +
                       " bytes (model.max_tensor_mib)");
    spans.emplace_back(begin, end);
    nt.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(begin), data.begin() + static_cast<std::ptrdiff_t>(end));
    check_finite(nt, what);
    found.emplace_back(begin, std::move(nt));
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      throw UsageError(file + ": tensors overlap in the data area at byte " + std::to_string(spans[i].first));
  // File order is data order: the JSON header is unordered, the data area is not.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [_, t] : found) dict.add(std::move(t));
  return dict;
}

}  // namespace

StateDict parse_safetensors(std::string_view bytes, const std::string& what, const InputLimits& limits) {
  return as_file_error(what, [&] { return parse_header_and_data(bytes, what, limits); });
}

StateDict read_safetensors(const std::string& path, const InputLimits& limits) {
  return as_file_error(path, [&] {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot open " + path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_header_and_data(bytes, path, limits);
  });
}

std::string serialize_safetensors(const StateDict& dict) {
  json header = json::object();
  uint64_t offset = 0;
  for (const NamedTensor& t : dict.tensors) {
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  if (!dict.metadata.empty()) header["__metadata__"] = dict.metadata;
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data area to 8 bytes
  std::string out(8, '\0');
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += head;
  out.reserve(out.size() + offset);
  for (const NamedTensor& t : dict.tensors) out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  return out;
}

void write_safetensors(const std::string& path, const StateDict& dict) {
  write_file_atomic(path, serialize_safetensors(dict));
}

}  // namespace cxr
