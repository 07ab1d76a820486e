#include "io/weights/pth_reader.h"

#include <zip.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "core/errors.h"
#include "io/weights/checked_math.h"
#include "io/weights/reader_errors.h"
#include "io/weights/unpickler.h"

namespace cxr {
namespace {

using pickle::Ref;
using Kind = pickle::Value::Kind;

// data.pkl of a state_dict is kilobytes; a gigabyte is far beyond any honest one.
constexpr int64_t kMaxPickleBytes = int64_t{1} << 30;
// torch.save stores entries uncompressed. A file re-zipped with deflate is read too, and deflate
// cannot expand its input more than 1032-fold, which bounds what such an entry can honestly hold.
constexpr uint64_t kMaxDeflateRatio = 1032;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

class Archive {
 public:
  Archive(const std::string& path, std::string what) : what_(std::move(what)) {
    std::error_code ec;
    file_bytes_ = std::filesystem::file_size(path, ec);
    if (ec) throw UsageError("cannot open " + path);
    int err = 0;
    zip_.reset(zip_open(path.c_str(), ZIP_RDONLY, &err));
    if (!zip_) {
      zip_error_t e;
      zip_error_init_with_code(&e, err);
      refuse_open(e);
    }
  }
  Archive(std::string_view bytes, std::string what) : what_(std::move(what)), file_bytes_(bytes.size()) {
    zip_error_t e;
    zip_error_init(&e);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &e);
    if (src) {
      zip_.reset(zip_open_from_source(src, ZIP_RDONLY, &e));
      if (!zip_) zip_source_free(src);
    }
    if (!zip_) refuse_open(e);
  }

  // The folder holding data.pkl: "archive", the file stem, or anything else torch chose.
  std::string prefix() const {
    const zip_int64_t n = zip_get_num_entries(zip_.get(), 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* entry = zip_get_name(zip_.get(), static_cast<zip_uint64_t>(i), 0);
      if (!entry) continue;
      const std::string name = entry;
      const size_t slash = name.find('/');
      if (slash != std::string::npos && name.substr(slash) == "/data.pkl") return name.substr(0, slash);
    }
    throw UsageError(what_ + ": no <folder>/data.pkl inside: not a torch.save checkpoint");
  }

  // The uncompressed size the zip declares for an entry, once it is known that the entry's
  // compressed bytes fit in this file and can expand to that size: the bound on what reading it
  // may allocate. `who` starts the messages (the file, and the tensor reading the entry).
  int64_t entry_size(const std::string& name, const std::string& who) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(zip_.get(), name.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw UsageError(who + ": missing entry " + name);
    if (!(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
      throw UsageError(who + ": entry " + name + " does not say how it is stored");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      throw UsageError(who + ": entry " + name + " is encrypted");
    if (st.comp_size > file_bytes_)
      throw UsageError(who + ": entry " + name + " claims " + std::to_string(st.comp_size) +
                       " stored bytes in a file of " + std::to_string(file_bytes_));
    uint64_t most;
    if (st.comp_method == ZIP_CM_STORE)
      most = st.comp_size;
    else if (st.comp_method == ZIP_CM_DEFLATE)
      most = st.comp_size * kMaxDeflateRatio;  // comp_size <= file size: no wrap below 16 PiB files
    else
      throw UsageError(who + ": entry " + name + " is compressed with zip method " + std::to_string(st.comp_method) +
                       " (torch.save stores entries uncompressed; deflate is read too)");
    if (st.size > most)
      throw UsageError(who + ": entry " + name + " claims " + std::to_string(st.size) + " bytes from " +
                       std::to_string(st.comp_size) + " stored bytes, more than they can hold");
    return static_cast<int64_t>(st.size);
  }

  // Reads an entry of exactly `bytes` bytes (its entry_size) into `dst`.
  void read_into(const std::string& name, uint8_t* dst, int64_t bytes) const {
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(zip_.get(), name.c_str(), 0), zip_fclose);
    if (!f) throw UsageError(what_ + ": cannot open entry " + name);
    const zip_int64_t got = zip_fread(f.get(), dst, static_cast<zip_uint64_t>(bytes));
    if (got != bytes) throw UsageError(what_ + ": entry " + name + " is truncated or corrupt");
  }

  std::string read(const std::string& name, int64_t max_bytes) const {
    const int64_t bytes = entry_size(name, what_);
    if (bytes > max_bytes) throw UsageError(what_ + ": entry " + name + " is larger than expected");
    std::string out(static_cast<size_t>(bytes), '\0');
    read_into(name, reinterpret_cast<uint8_t*>(out.data()), bytes);
    return out;
  }

 private:
  [[noreturn]] void refuse_open(zip_error_t& e) const {
    const std::string why = zip_error_strerror(&e);
    zip_error_fini(&e);
    throw UsageError(what_ + ": not a readable PyTorch zip checkpoint (" + why + ")");
  }

  std::string what_;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<zip_t, ZipCloser> zip_;
};

// The dict of name -> tensor inside what was pickled.
const pickle::Value& find_state(const pickle::Value& root, const std::string& path) {
  if (root.kind != Kind::Dict) throw UsageError(path + ": the checkpoint is not a dict");
  for (const char* key : {"state_dict", "model"})
    for (const auto& [k, v] : root.entries)
      if (k->kind == Kind::String && k->s == key && v->kind == Kind::Dict) return *v;
  return root;
}

// One tensor, checked: what it takes from its storage and how it is read.
struct View {
  std::string name;
  const pickle::TensorRef* ref = nullptr;
  int64_t count = 0;         // elements
  int64_t bytes = 0;         // count × element size, within the limit
  bool contiguous = true;    // row-major over consecutive storage elements
  bool whole = false;        // the storage's only user, all of it in order: read straight into place
};

// A storage's declared bytes must be exactly its entry's, before anything is allocated for it.
int64_t check_storage(const pickle::Storage& st, const std::string& where, const Archive& zip,
                      const std::string& entry) {
  if (!st.supported)
    throw UsageError(where + " is stored as " + st.type_name + " (cxrtune loads float32, float16, bfloat16 and int64)");
  int64_t bytes = 0;
  if (!checked_mul(st.numel, dtype_size(st.dtype), &bytes))
    throw UsageError(where + ": storage " + st.key + " declares " + std::to_string(st.numel) + " elements, " +
                     "more bytes than int64 counts");
  const int64_t held = zip.entry_size(entry, where);
  if (held != bytes)
    throw UsageError(where + ": storage " + st.key + " declares " + std::to_string(st.numel) + " " + st.type_name +
                     " elements (" + std::to_string(bytes) + " bytes) but its entry " + entry + " holds " +
                     std::to_string(held) + " bytes");
  return bytes;
}

// Sizes, strides and offset against the storage, in int64 arithmetic that is checked at every
// step: a view passes only if its furthest element, computed without wrapping, is in the storage.
View check_view(const std::string& name, const pickle::TensorRef& t, const std::string& where,
                const InputLimits& limits) {
  const pickle::Storage& st = *t.storage;
  View v;
  v.name = name;
  v.ref = &t;
  if (t.size.size() != t.stride.size()) throw UsageError(where + " has " + std::to_string(t.size.size()) +
                                                         " sizes but " + std::to_string(t.stride.size()) + " strides");
  if (t.offset < 0) throw UsageError(where + " has a negative storage offset (" + std::to_string(t.offset) + ")");
  v.count = 1;
  for (size_t d = 0; d < t.size.size(); ++d) {
    if (t.size[d] < 0) throw UsageError(where + " has a negative size in " + to_string(t.size));
    if (t.stride[d] < 0) throw UsageError(where + " has a negative stride in " + to_string(t.stride));
    if (!checked_mul(v.count, t.size[d], &v.count))
      throw UsageError(where + ": the element count of size " + to_string(t.size) + " overflows int64");
  }
  const int64_t elem = dtype_size(st.dtype);
  if (!checked_mul(v.count, elem, &v.bytes))
    throw UsageError(where + ": the byte count of " + std::to_string(v.count) + " elements of " +
                     std::to_string(elem) + " bytes overflows int64");
  if (v.bytes > limits.max_tensor_bytes)
    throw UsageError(where + " of size " + to_string(t.size) + " would take " + std::to_string(v.bytes) +
                     " bytes once read, more than the limit of " + std::to_string(limits.max_tensor_bytes) +
                     " bytes (model.max_tensor_mib)");
  auto outside = [&](const std::string& why) {
    return UsageError(where + " (offset " + std::to_string(t.offset) + ", size " + to_string(t.size) + ", stride " +
                      to_string(t.stride) + ") reaches outside its storage of " + std::to_string(st.numel) +
                      " elements" + why);
  };
  if (v.count == 0) {
    if (t.offset > st.numel) throw outside("");
    return v;
  }
  int64_t last = t.offset;
  for (size_t d = 0; d < t.size.size(); ++d) {
    int64_t reach = 0;
    if (!checked_mul(t.size[d] - 1, t.stride[d], &reach) || !checked_add(last, reach, &last))
      throw outside(" (its furthest element overflows int64)");
  }
  if (last >= st.numel) throw outside(" (its furthest element is " + std::to_string(last) + ")");
  // Every partial product of sizes is at most count, so this cannot wrap.
  int64_t expect = 1;
  for (size_t d = t.size.size(); d-- > 0;) {
    if (t.size[d] != 1 && t.stride[d] != expect) v.contiguous = false;
    expect *= t.size[d];
  }
  return v;
}

// Copies a checked view out of its storage. Every source index is between the offset and the
// view's furthest element, so no arithmetic here can wrap or leave `raw`.
void copy_view(const View& v, const uint8_t* raw, uint8_t* dst, int64_t elem) {
  const pickle::TensorRef& t = *v.ref;
  if (v.contiguous) {
    std::memcpy(dst, raw + t.offset * elem, static_cast<size_t>(v.bytes));
    return;
  }
  // Row-major order of the logical index; the source offset moves by one stride per step.
  std::vector<int64_t> idx(t.size.size(), 0);
  int64_t src = t.offset;
  for (int64_t k = 0; k < v.count; ++k) {
    std::memcpy(dst + k * elem, raw + src * elem, static_cast<size_t>(elem));
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < t.size[d]) {
        src += t.stride[d];
        break;
      }
      idx[d] = 0;
      src -= (t.size[d] - 1) * t.stride[d];
    }
  }
}

StateDict read_state(const Archive& zip, const std::string& what, const InputLimits& limits) {
  const std::string prefix = zip.prefix();
  const std::string pkl = zip.read(prefix + "/data.pkl", kMaxPickleBytes);
  const Ref root = pickle::load(pkl, what);
  const pickle::Value& state = find_state(*root, what);
  std::map<std::string, int> users;  // tensors per storage key
  for (const auto& [k, v] : state.entries)
    if (v->kind == Kind::Tensor) users[v->tensor->storage->key]++;

  // First every tensor and storage is checked; no tensor data is read or allocated yet.
  std::vector<View> views;
  std::map<std::string, int64_t> storage_bytes;
  for (const auto& [k, v] : state.entries) {
    if (k->kind != Kind::String) throw UsageError(what + ": a state_dict key is not a string");
    if (v->kind != Kind::Tensor) continue;  // e.g. nested non-tensor entries of a checkpoint
    std::string name = k->s;
    if (name.rfind("module.", 0) == 0) name = name.substr(7);
    const pickle::TensorRef& t = *v->tensor;
    const pickle::Storage& st = *t.storage;
    const std::string where = what + ": tensor " + name;
    if (!storage_bytes.count(st.key)) storage_bytes[st.key] = check_storage(st, where, zip, prefix + "/data/" + st.key);
    View view = check_view(name, t, where, limits);
    view.whole = users[st.key] == 1 && view.contiguous && t.offset == 0 && view.count == st.numel;
    if (!view.whole && view.count > 0 && storage_bytes[st.key] > limits.max_tensor_bytes)
      throw UsageError(where + ": its storage " + st.key + " of " + std::to_string(storage_bytes[st.key]) +
                       " bytes, read whole for its views, is more than the limit of " +
                       std::to_string(limits.max_tensor_bytes) + " bytes (model.max_tensor_mib)");
    views.push_back(std::move(view));
  }
  if (views.empty()) throw UsageError(what + ": no tensors found (expected a state_dict)");

  StateDict dict;
  std::map<std::string, std::vector<uint8_t>> cache;  // storages shared or read in part
  for (const View& v : views) {
    const pickle::Storage& st = *v.ref->storage;
    const std::string entry = prefix + "/data/" + st.key;
    NamedTensor out;
    out.name = v.name;
    out.dtype = st.dtype;
    out.shape = v.ref->size;
    out.bytes.resize(static_cast<size_t>(v.bytes));
    if (v.count == 0) {
      // nothing to read (an empty tensor)
    } else if (v.whole) {
      zip.read_into(entry, out.bytes.data(), v.bytes);
    } else {
      auto it = cache.find(st.key);
      if (it == cache.end()) {
        it = cache.emplace(st.key, std::vector<uint8_t>(static_cast<size_t>(storage_bytes[st.key]))).first;
        zip.read_into(entry, it->second.data(), storage_bytes[st.key]);
      }
      copy_view(v, it->second.data(), out.bytes.data(), dtype_size(st.dtype));
    }
    check_finite(out, what + ": tensor " + v.name);
    dict.add(std::move(out));
  }
  return dict;
}

}  // namespace

StateDict read_pth(const std::string& path, const InputLimits& limits) {
  return as_file_error(path, [&] {
    {
      std::ifstream in(path, std::ios::binary);
      if (!in) throw UsageError("cannot open " + path);
      char magic[2] = {0, 0};
      in.read(magic, 2);
      if (static_cast<uint8_t>(magic[0]) == 0x80)
        throw UsageError(path + ": legacy (pre-1.6, non-zip) PyTorch format. Re-save it with a current torch: "
                         "torch.save(torch.load(f), 'new.pth') writes the zip format cxrtune reads");
    }
    return read_state(Archive(path, path), path, limits);
  });
}

StateDict parse_pth(std::string_view bytes, const std::string& what, const InputLimits& limits) {
  return as_file_error(what, [&] { return read_state(Archive(bytes, what), what, limits); });
}

}  // namespace cxr
