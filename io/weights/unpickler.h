// A restricted unpickler for PyTorch checkpoints. It builds plain values (None, bool, int,
// float, str, bytes, tuple, list, dict) and the three kinds of objects a state_dict needs —
// OrderedDict, tensors (torch._utils._rebuild_tensor_v2 / _rebuild_parameter) and storages
// (persistent ids) — and nothing else: any other global (os.system, builtins.eval, ...) or
// opcode is refused with a UsageError naming it. Nothing in the file is ever executed.
// Protocols 2 to 4 (what torch.save writes). Iterative: no recursion on hostile nesting. What it
// returns is acyclic and at most 1000 containers deep: files that build reference cycles (through
// the memo) or deeper nesting are refused, and whatever they built is freed. Storage records are
// checked here (numel >= 0, its bytes within int64, one key declared once); a tensor's offset,
// sizes and strides are returned as declared, for the reader to check against its storage.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace cxr::pickle {

struct Value;
using Ref = std::shared_ptr<Value>;

struct Storage {
  DType dtype = DType::F32;
  bool supported = true;  // false for storage types cxrtune does not load (double, bool, ...)
  std::string type_name;  // "FloatStorage"
  std::string key;        // file name under data/
  int64_t numel = 0;
};

struct TensorRef {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;
  std::vector<int64_t> size, stride;
};

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor, Mark };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                                // String, Bytes; Global: "module.name"
  std::vector<Ref> items;                       // Tuple, List
  std::vector<std::pair<Ref, Ref>> entries;     // Dict, in insertion order
  std::shared_ptr<Storage> storage;
  std::shared_ptr<TensorRef> tensor;
};

// Unpickles `data`; `what` names the source in errors.
Ref load(std::string_view data, const std::string& what);

}  // namespace cxr::pickle
