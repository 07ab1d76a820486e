#include "io/weights/pth_reader.h"

#include <zip.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "engine/errors.h"
#include "io/weights/unpickler.h"

namespace cxr {
namespace {

using pickle::Ref;
using Kind = pickle::Value::Kind;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

class Archive {
 public:
  explicit Archive(const std::string& path) : path_(path) {
    int err = 0;
    zip_.reset(zip_open(path.c_str(), ZIP_RDONLY, &err));
    if (!zip_) {
      zip_error_t e;
      zip_error_init_with_code(&e, err);
      const std::string why = zip_error_strerror(&e);
      zip_error_fini(&e);
      throw UsageError(path + ": not a readable PyTorch zip checkpoint (" + why + ")");
    }
  }
  // The folder holding data.pkl: "archive", the file stem, or anything else torch chose.
  std::string prefix() const {
    const zip_int64_t n = zip_get_num_entries(zip_.get(), 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const std::string name = zip_get_name(zip_.get(), static_cast<zip_uint64_t>(i), 0);
      const size_t slash = name.find('/');
      if (slash != std::string::npos && name.substr(slash) == "/data.pkl") return name.substr(0, slash);
    }
    throw UsageError(path_ + ": no <folder>/data.pkl inside: not a torch.save checkpoint");
  }
  // Reads an entry of exactly `bytes` bytes into `dst` (no intermediate copy).
  void read_into(const std::string& name, void* dst, int64_t bytes) const {
    zip_stat_t st;
    if (zip_stat(zip_.get(), name.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw UsageError(path_ + ": missing entry " + name);
    if (st.size != static_cast<uint64_t>(bytes))
      throw UsageError(path_ + ": entry " + name + " has " + std::to_string(st.size) + " bytes, expected " +
                       std::to_string(bytes));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(zip_.get(), name.c_str(), 0), zip_fclose);
    if (!f) throw UsageError(path_ + ": cannot open entry " + name);
    const zip_int64_t got = zip_fread(f.get(), dst, st.size);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
      throw UsageError(path_ + ": entry " + name + " is truncated or corrupt");
  }
  std::string read(const std::string& name, int64_t max_bytes) const {
    zip_stat_t st;
    if (zip_stat(zip_.get(), name.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw UsageError(path_ + ": missing entry " + name);
    if (static_cast<uint64_t>(max_bytes) < st.size)
      throw UsageError(path_ + ": entry " + name + " is larger than expected");
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(zip_.get(), name.c_str(), 0), zip_fclose);
    if (!f) throw UsageError(path_ + ": cannot open entry " + name);
    std::string out(st.size, '\0');
    const zip_int64_t got = zip_fread(f.get(), out.data(), st.size);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
      throw UsageError(path_ + ": entry " + name + " is truncated or corrupt");
    return out;
  }

 private:
  std::string path_;
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

NamedTensor materialise(const std::string& name, const pickle::TensorRef& t, const Archive& zip,
                        const std::string& prefix, std::map<std::string, std::string>& cache,
                        bool sole_user, const std::string& path) {
  const pickle::Storage& st = *t.storage;
  if (!st.supported)
    throw UsageError(path + ": tensor " + name + " is stored as " + st.type_name + " (cxrtune loads float32, "
                     "float16, bfloat16 and int64)");
  NamedTensor out;
  out.name = name;
  out.dtype = st.dtype;
  out.shape = t.size;
  const int64_t elem = dtype_size(st.dtype);
  const int64_t count = numel(out.shape);
  // Bounds: the furthest element a (size, stride, offset) view touches must lie in the storage.
  int64_t last = t.offset;
  if (t.offset < 0) throw UsageError(path + ": tensor " + name + " has a negative storage offset");
  for (size_t d = 0; d < t.size.size(); ++d) {
    if (t.stride[d] < 0) throw UsageError(path + ": tensor " + name + " has a negative stride");
    if (t.size[d] > 0) last += (t.size[d] - 1) * t.stride[d];
  }
  if (count > 0 && last >= st.numel)
    throw UsageError(path + ": tensor " + name + " reaches element " + std::to_string(last) + " of a storage of " +
                     std::to_string(st.numel));
  int64_t expect = 1;
  bool contiguous = true;
  for (size_t d = t.size.size(); d-- > 0;) {
    if (t.size[d] != 1 && t.stride[d] != expect) contiguous = false;
    expect *= t.size[d];
  }
  // The common case: a tensor that is its whole storage is read straight into place.
  if (sole_user && contiguous && t.offset == 0 && count == st.numel) {
    out.bytes.resize(static_cast<size_t>(count * elem));
    zip.read_into(prefix + "/data/" + st.key, out.bytes.data(), count * elem);
    return out;
  }
  auto it = cache.find(st.key);
  if (it == cache.end()) {
    it = cache.emplace(st.key, zip.read(prefix + "/data/" + st.key, st.numel * elem)).first;
    if (static_cast<int64_t>(it->second.size()) < st.numel * elem)
      throw UsageError(path + ": storage " + st.key + " is shorter than its " + std::to_string(st.numel) + " elements");
  }
  const std::string& raw = it->second;
  out.bytes.resize(static_cast<size_t>(count * elem));
  if (contiguous) {
    std::memcpy(out.bytes.data(), raw.data() + t.offset * elem, out.bytes.size());
    return out;
  }
  // Otherwise walk the view in row-major order of its logical index.
  std::vector<int64_t> idx(out.shape.size(), 0);
  for (int64_t k = 0; k < count; ++k) {
    int64_t src = t.offset;
    for (size_t d = 0; d < idx.size(); ++d) src += idx[d] * t.stride[d];
    std::memcpy(out.bytes.data() + k * elem, raw.data() + src * elem, static_cast<size_t>(elem));
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < out.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace

StateDict read_pth(const std::string& path) {
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot open " + path);
    char magic[2] = {0, 0};
    in.read(magic, 2);
    if (static_cast<uint8_t>(magic[0]) == 0x80)
      throw UsageError(path + ": legacy (pre-1.6, non-zip) PyTorch format. Re-save it with a current torch: "
                       "torch.save(torch.load(f), 'new.pth') writes the zip format cxrtune reads");
  }
  Archive zip(path);
  const std::string prefix = zip.prefix();
  const std::string pkl = zip.read(prefix + "/data.pkl", int64_t{1} << 30);
  const Ref root = pickle::load(pkl, path);
  const pickle::Value& state = find_state(*root, path);
  StateDict dict;
  std::map<std::string, std::string> cache;
  std::map<std::string, int> users;  // tensors per storage
  for (const auto& [k, v] : state.entries)
    if (v->kind == Kind::Tensor) users[v->tensor->storage->key]++;
  for (const auto& [k, v] : state.entries) {
    if (k->kind != Kind::String) throw UsageError(path + ": a state_dict key is not a string");
    if (v->kind != Kind::Tensor) continue;  // e.g. nested non-tensor entries of a checkpoint
    std::string name = k->s;
    if (name.rfind("module.", 0) == 0) name = name.substr(7);
    dict.add(materialise(name, *v->tensor, zip, prefix, cache, users[v->tensor->storage->key] == 1, path));
  }
  if (dict.tensors.empty()) throw UsageError(path + ": no tensors found (expected a state_dict)");
  return dict;
}

}  // namespace cxr
