#include "io/weights/unpickler.h"

#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "core/errors.h"

namespace cxr::pickle {
namespace {

using Kind = Value::Kind;

Ref make(Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  return v;
}

// The storage types torch.save names; the dtypes cxrtune loads are marked supported.
const std::map<std::string, std::pair<DType, bool>>& storage_types() {
  static const std::map<std::string, std::pair<DType, bool>> types{
      {"FloatStorage", {DType::F32, true}},   {"HalfStorage", {DType::F16, true}},
      {"BFloat16Storage", {DType::BF16, true}}, {"LongStorage", {DType::I64, true}},
      {"DoubleStorage", {DType::F32, false}}, {"IntStorage", {DType::F32, false}},
      {"ByteStorage", {DType::F32, false}},   {"BoolStorage", {DType::F32, false}},
      {"CharStorage", {DType::F32, false}},   {"ShortStorage", {DType::F32, false}}};
  return types;
}

// Deeper than any checkpoint (a state_dict is 2 levels, a full training checkpoint about 5), and
// shallow enough that freeing the result recursively cannot exhaust the stack.
constexpr int kMaxNesting = 1000;

class Machine {
 public:
  Machine(std::string_view data, std::string what) : d_(data), what_(std::move(what)) {}
  // A refused file may have built reference cycles (a list appended to itself through the memo)
  // or chains too deep to free recursively. Emptying every container first frees each value
  // with nothing left below it: no leak, no deep recursion.
  ~Machine() {
    if (accepted_) return;
    for (const Ref& c : containers_) {
      c->items.clear();
      c->entries.clear();
    }
  }

  Ref run() {
    for (;;) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                                 // PROTO
        case 0x95: take(8); break;                              // FRAME
        case '.': return finish();                              // STOP
        case '(': stack_.push_back(make(Kind::Mark)); break;    // MARK
        case 'N': stack_.push_back(make(Kind::None)); break;
        case 0x88: push_bool(true); break;                      // NEWTRUE
        case 0x89: push_bool(false); break;                     // NEWFALSE
        case 'K': push_int(u8()); break;                        // BININT1
        case 'M': push_int(le(2)); break;                       // BININT2
        case 'J': push_int(static_cast<int32_t>(le(4))); break; // BININT
        case 0x8a: push_long(u8()); break;                      // LONG1
        case 'G': push_float(); break;                          // BINFLOAT
        case 'X': push_string(le(4), Kind::String); break;      // BINUNICODE
        case 0x8c: push_string(u8(), Kind::String); break;      // SHORT_BINUNICODE
        case 'T': push_string(le(4), Kind::Bytes); break;       // BINSTRING
        case 'U': push_string(u8(), Kind::Bytes); break;        // SHORT_BINSTRING
        case 'B': push_string(le(4), Kind::Bytes); break;       // BINBYTES
        case 'C': push_string(u8(), Kind::Bytes); break;        // SHORT_BINBYTES
        case ')': push_container(Kind::Tuple); break;           // EMPTY_TUPLE
        case ']': push_container(Kind::List); break;            // EMPTY_LIST
        case '}': push_container(Kind::Dict); break;            // EMPTY_DICT
        case 't': push_tuple(since_mark()); break;              // TUPLE
        case 0x85: push_tuple(pop_n(1)); break;                 // TUPLE1
        case 0x86: push_tuple(pop_n(2)); break;                 // TUPLE2
        case 0x87: push_tuple(pop_n(3)); break;                 // TUPLE3
        case 'a': { Ref v = pop(); list_of(top()).push_back(v); break; }  // APPEND
        case 'e': { auto vs = since_mark(); auto& l = list_of(top()); l.insert(l.end(), vs.begin(), vs.end()); break; }
        case 's': { Ref v = pop(), k = pop(); dict_of(top()).emplace_back(k, v); break; }  // SETITEM
        case 'u': setitems(); break;                            // SETITEMS
        case 'q': memo_[u8()] = top(); break;                   // BINPUT
        case 'r': memo_[le(4)] = top(); break;                  // LONG_BINPUT
        case 0x94: memo_[static_cast<uint32_t>(memo_.size())] = top(); break;  // MEMOIZE
        case 'h': get(u8()); break;                             // BINGET
        case 'j': get(le(4)); break;                            // LONG_BINGET
        case 'c': {                                             // GLOBAL: module, then name
          const std::string module = line();
          global(module, line());
          break;
        }
        case 0x93: { Ref name = pop(), mod = pop(); global(str_of(mod), str_of(name)); break; }  // STACK_GLOBAL
        case 'R': reduce(); break;                              // REDUCE
        case 'Q': persistent(); break;                          // BINPERSID
        case 'b': pop(); break;                                 // BUILD: object state (OrderedDict _metadata) ignored
        case '0': pop(); break;                                 // POP
        default:
          fail("opcode 0x" + hex(op) + " is not allowed in a weights file");
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw UsageError(what_ + ": refused pickle at byte " + std::to_string(pos_) + ": " + why);
  }
  static std::string hex(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
  }
  std::string_view take(size_t n) {
    if (n > d_.size() - pos_) fail("truncated data");
    const std::string_view out = d_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint32_t le(int bytes) {
    const std::string_view b = take(static_cast<size_t>(bytes));
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    return v;
  }
  std::string line() {
    const size_t end = d_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 256) fail("bad GLOBAL name");
    std::string s(d_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  Ref pop() {
    if (stack_.empty()) fail("stack underflow");
    Ref v = stack_.back();
    stack_.pop_back();
    if (v->kind == Kind::Mark) fail("unexpected MARK");
    return v;
  }
  Ref& top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<Ref> pop_n(size_t n) {
    std::vector<Ref> out(n);
    for (size_t i = n; i-- > 0;) out[i] = pop();
    return out;
  }
  std::vector<Ref> since_mark() {
    std::vector<Ref> out;
    for (;;) {
      if (stack_.empty()) fail("MARK missing");
      Ref v = stack_.back();
      stack_.pop_back();
      if (v->kind == Kind::Mark) break;
      out.push_back(v);
    }
    return {out.rbegin(), out.rend()};
  }
  std::vector<Ref>& list_of(Ref& v) {
    if (v->kind != Kind::List) fail("APPEND to a non-list");
    return v->items;
  }
  std::vector<std::pair<Ref, Ref>>& dict_of(Ref& v) {
    if (v->kind != Kind::Dict) fail("SETITEM on a non-dict");
    return v->entries;
  }
  const std::string& str_of(const Ref& v) {
    if (v->kind != Kind::String) fail("expected a string");
    return v->s;
  }
  void push_bool(bool b) { auto v = make(Kind::Bool); v->b = b; stack_.push_back(v); }
  void push_int(int64_t i) { auto v = make(Kind::Int); v->i = i; stack_.push_back(v); }
  void push_long(uint8_t n) {
    if (n > 8) fail("integer wider than 64 bits");
    const std::string_view b = take(n);
    uint64_t u = 0;
    for (size_t k = n; k-- > 0;) u = (u << 8) | static_cast<uint8_t>(b[k]);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    push_int(static_cast<int64_t>(u));
  }
  void push_float() {
    const std::string_view b = take(8);
    uint64_t u = 0;
    for (size_t k = 0; k < 8; ++k) u = (u << 8) | static_cast<uint8_t>(b[k]);  // big-endian
    auto v = make(Kind::Float);
    std::memcpy(&v->f, &u, 8);
    stack_.push_back(v);
  }
  void push_string(uint32_t n, Kind k) {
    auto v = make(k);
    v->s = std::string(take(n));
    stack_.push_back(v);
  }
  void push_container(Kind k) {
    containers_.push_back(make(k));
    stack_.push_back(containers_.back());
  }
  void push_tuple(std::vector<Ref> items) {
    push_container(Kind::Tuple);
    stack_.back()->items = std::move(items);
  }
  void setitems() {
    auto kv = since_mark();
    if (kv.size() % 2) fail("SETITEMS with an odd number of items");
    auto& d = dict_of(top());
    for (size_t k = 0; k < kv.size(); k += 2) d.emplace_back(kv[k], kv[k + 1]);
  }
  void get(uint32_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("memo key " + std::to_string(key) + " undefined");
    stack_.push_back(it->second);
  }
  void global(const std::string& module, const std::string& name) {
    static const std::set<std::string> allowed{"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                               "torch._utils._rebuild_parameter"};
    const std::string full = module + "." + name;
    const bool storage = module == "torch" && storage_types().count(name);
    if (!allowed.count(full) && !storage)
      fail("global '" + full + "' is not allowed (a state_dict needs only OrderedDict, tensors and storages)");
    auto v = make(Kind::Global);
    v->s = full;
    stack_.push_back(v);
  }
  void reduce() {
    Ref args = pop(), fn = pop();
    if (fn->kind != Kind::Global || args->kind != Kind::Tuple) fail("REDUCE needs a global and a tuple");
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      if (!a.empty()) fail("OrderedDict with arguments");
      push_container(Kind::Dict);
    } else if (fn->s == "torch._utils._rebuild_tensor_v2") {
      if (a.size() < 4 || a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || a[2]->kind != Kind::Tuple ||
          a[3]->kind != Kind::Tuple || a[2]->items.size() != a[3]->items.size())
        fail("malformed _rebuild_tensor_v2 arguments");
      auto t = std::make_shared<TensorRef>();
      t->storage = a[0]->storage;
      t->offset = a[1]->i;
      for (const Ref& d : a[2]->items) t->size.push_back(int_of(d));
      for (const Ref& d : a[3]->items) t->stride.push_back(int_of(d));
      auto v = make(Kind::Tensor);
      v->tensor = t;
      stack_.push_back(v);
    } else if (fn->s == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Kind::Tensor) fail("malformed _rebuild_parameter arguments");
      stack_.push_back(a[0]);
    } else {
      fail("'" + fn->s + "' cannot be called");
    }
  }
  int64_t int_of(const Ref& v) {
    if (v->kind != Kind::Int) fail("expected an integer");
    return v->i;
  }
  void persistent() {
    Ref pid = pop();
    const auto& a = pid->items;
    if (pid->kind != Kind::Tuple || a.size() != 5 || a[0]->kind != Kind::String || a[0]->s != "storage" ||
        a[1]->kind != Kind::Global || a[2]->kind != Kind::String || a[4]->kind != Kind::Int)
      fail("persistent id is not a ('storage', type, key, location, numel) tuple");
    const std::string type = a[1]->s.substr(a[1]->s.rfind('.') + 1);
    auto it = storage_types().find(type);
    if (it == storage_types().end()) fail("unknown storage type " + a[1]->s);
    const int64_t numel = a[4]->i;
    if (numel < 0) fail("negative storage size");
    // No storage type is wider than 8 bytes: beyond this, the storage's bytes would not fit int64.
    if (numel > std::numeric_limits<int64_t>::max() / 8)
      fail("storage " + a[2]->s + " declares " + std::to_string(numel) + " elements, more bytes than int64 counts");
    auto& st = storages_[a[2]->s];
    if (!st) {
      st = std::make_shared<Storage>();
      st->type_name = type;
      st->dtype = it->second.first;
      st->supported = it->second.second;
      st->key = a[2]->s;
      st->numel = numel;
    } else if (st->type_name != type || st->numel != numel) {
      // torch.save refuses to write one storage as two types; a second size is a lie about the first.
      fail("storage " + a[2]->s + " declared twice, as " + std::to_string(st->numel) + " " + st->type_name + " and " +
           std::to_string(numel) + " " + type + " elements");
    }
    auto v = make(Kind::Storage);
    v->storage = st;
    stack_.push_back(v);
  }
  Ref finish() {
    Ref v = pop();
    check_structure();
    accepted_ = true;
    return v;
  }
  // Refuses reference cycles and nesting deeper than kMaxNesting among everything the file built,
  // kept or not: one depth-first walk over all containers, O(values + references), iterative.
  // Checked once at STOP rather than at every APPEND, so hostile sharing cannot make it quadratic.
  void check_structure() {
    enum class State { Open, Done };
    std::unordered_map<const Value*, std::pair<State, int>> seen;  // state, height when done
    struct Frame {
      const Value* v;
      size_t next;  // index into items, then into entries (2 per entry)
    };
    auto child = [](const Value* v, size_t k) -> const Value* {
      if (k < v->items.size()) return v->items[k].get();
      k -= v->items.size();
      if (k / 2 < v->entries.size()) return (k % 2 ? v->entries[k / 2].second : v->entries[k / 2].first).get();
      return nullptr;
    };
    std::vector<Frame> path;
    for (const Ref& root : containers_) {
      if (seen.count(root.get())) continue;
      seen[root.get()] = {State::Open, 0};
      path.push_back({root.get(), 0});
      while (!path.empty()) {
        Frame& f = path.back();
        const Value* c = child(f.v, f.next++);
        if (!c) {  // all children done
          seen[f.v] = {State::Done, seen[f.v].second};
          const int height = seen[f.v].second;
          path.pop_back();
          if (!path.empty()) {
            int& parent = seen[path.back().v].second;
            parent = std::max(parent, height + 1);
          }
          continue;
        }
        if (c->items.empty() && c->entries.empty()) {
          int& parent = seen[f.v].second;
          parent = std::max(parent, 1);
          continue;
        }
        auto it = seen.find(c);
        if (it == seen.end()) {
          if (path.size() >= static_cast<size_t>(kMaxNesting))
            fail("containers nested deeper than " + std::to_string(kMaxNesting) + " levels");
          seen[c] = {State::Open, 0};
          path.push_back({c, 0});  // invalidates f
        } else if (it->second.first == State::Open) {
          fail("a container holds itself (a reference cycle, which no state_dict has)");
        } else {
          int& parent = seen[f.v].second;
          parent = std::max(parent, it->second.second + 1);
          if (parent > kMaxNesting)
            fail("containers nested deeper than " + std::to_string(kMaxNesting) + " levels");
        }
      }
    }
  }

  std::string_view d_;
  std::string what_;
  size_t pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<Ref> containers_;  // every tuple, list and dict built, in creation order
  bool accepted_ = false;
  std::map<uint32_t, Ref> memo_;
  std::map<std::string, std::shared_ptr<Storage>> storages_;
};

}  // namespace

Ref load(std::string_view data, const std::string& what) { return Machine(data, what).run(); }

}  // namespace cxr::pickle
