#include "io/dicom_structure.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"

namespace cxr {
namespace {

constexpr uint32_t kUndefined = 0xFFFFFFFFu;
constexpr uint64_t kOpen = UINT64_MAX;  // a container that ends at its delimiter

// Bytes of the file, or of its inflated data set, with a small look-ahead. Skipping a deflated
// stretch inflates it into a scratch buffer: memory stays constant whatever the file declares.
class Stream {
 public:
  explicit Stream(std::FILE* f) : f_(f) {}
  ~Stream() {
    if (inflating_) inflateEnd(&z_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // From here on the bytes are raw deflate (PS3.5 A.5).
  bool start_inflating() {
    std::memset(&z_, 0, sizeof z_);
    if (inflateInit2(&z_, -MAX_WBITS) != Z_OK) return false;
    inflating_ = true;
    // Look-ahead bytes already taken from the file belong to the deflated stream.
    compressed_.assign(ahead_.begin(), ahead_.end());
    ahead_.clear();
    return true;
  }

  bool read(uint8_t* dst, size_t n) {
    if (!peek(dst, n)) return false;
    ahead_.erase(ahead_.begin(), ahead_.begin() + static_cast<std::ptrdiff_t>(n));
    pos_ += n;
    return true;
  }

  bool peek(uint8_t* dst, size_t n) {
    while (ahead_.size() < n) {
      uint8_t buf[64];
      const size_t got = fill(buf, std::min(sizeof buf, n - ahead_.size()));
      if (got == 0) return false;
      ahead_.insert(ahead_.end(), buf, buf + got);
    }
    std::memcpy(dst, ahead_.data(), n);
    return true;
  }

  bool skip(uint64_t n) {
    const uint64_t from_ahead = std::min<uint64_t>(n, ahead_.size());
    ahead_.erase(ahead_.begin(), ahead_.begin() + static_cast<std::ptrdiff_t>(from_ahead));
    pos_ += from_ahead;
    n -= from_ahead;
    if (n == 0) return true;
    if (!inflating_) {
      const long here = std::ftell(f_);
      std::fseek(f_, 0, SEEK_END);
      const long end = std::ftell(f_);
      if (here < 0 || end < here || static_cast<uint64_t>(end - here) < n) return false;
      if (std::fseek(f_, here + static_cast<long>(n), SEEK_SET) != 0) return false;
      pos_ += n;
      return true;
    }
    uint8_t scratch[4096];
    while (n > 0) {
      const size_t got = fill(scratch, static_cast<size_t>(std::min<uint64_t>(n, sizeof scratch)));
      if (got == 0) return false;
      n -= got;
      pos_ += got;
    }
    return true;
  }

  uint64_t position() const { return pos_; }

 private:
  size_t fill(uint8_t* dst, size_t n) {
    if (!inflating_) return std::fread(dst, 1, n, f_);
    z_.next_out = dst;
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0) {
        if (!compressed_.empty()) {
          input_.assign(compressed_.begin(), compressed_.end());
          compressed_.clear();
        } else {
          input_.resize(4096);
          input_.resize(std::fread(input_.data(), 1, input_.size(), f_));
        }
        if (input_.empty()) break;
        z_.next_in = input_.data();
        z_.avail_in = static_cast<uInt>(input_.size());
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK) break;  // end of stream or corrupt: the rest is DCMTK's to judge
    }
    return n - z_.avail_out;
  }

  std::FILE* f_;
  std::vector<uint8_t> ahead_, compressed_, input_;
  uint64_t pos_ = 0;
  bool inflating_ = false;
  z_stream z_{};
};

struct Syntax {
  bool implicit = false, big_endian = false, deflated = false;
};

Syntax syntax_of(const std::string& uid) {
  if (uid == "1.2.840.10008.1.2") return {true, false, false};
  if (uid == "1.2.840.10008.1.2.2") return {false, true, false};
  if (uid == "1.2.840.10008.1.2.1.99") return {false, false, true};
  return {};  // explicit VR little endian: every other (compressed) syntax
}

bool long_length(const uint8_t vr[2]) {
  static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* v : kLong)
    if (vr[0] == v[0] && vr[1] == v[1]) return true;
  // DCMTK reads a VR it does not know with a 4-byte length, as UN.
  return !(vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z');
}

struct Frame {
  bool sequence;   // a sequence, else an item
  bool fragments;  // encapsulated pixel data: its items are opaque bytes
  bool implicit;   // the VR encoding of the elements inside
  uint64_t end;    // kOpen: until the delimiter
};

class Scanner {
 public:
  Scanner(Stream& s, const std::string& path, int max_depth) : s_(s), path_(path), max_depth_(max_depth) {}

  // Reads the file meta group (explicit VR little endian) and returns the data set's syntax.
  Syntax meta_group() {
    uint8_t b[8];
    std::string uid;
    bool seen = false;
    for (;;) {
      if (!s_.peek(b, 6) || u16le(b) != 0x0002) break;
      seen = true;
      s_.read(b, 6);
      const uint16_t elem = u16le(b + 2);
      uint64_t len = 0;
      if (long_length(b + 4)) {  // two reserved bytes, then a 4-byte length
        if (!s_.read(b, 6)) break;
        len = u32le(b + 2);
      } else {
        if (!s_.read(b, 2)) break;
        len = u16le(b);
      }
      if (elem == 0x0010 && len < 128) {
        std::string v(static_cast<size_t>(len), '\0');
        if (!s_.read(reinterpret_cast<uint8_t*>(v.data()), v.size())) break;
        while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.pop_back();
        uid = v;
      } else if (len == kUndefined || !s_.skip(len)) {
        break;
      }
    }
    if (seen && !uid.empty()) return syntax_of(uid);
    return guess();
  }

  // Follows the data set to its end (or to where it stops making sense).
  void data_set(Syntax syntax) {
    big_ = syntax.big_endian;
    if (syntax.deflated && !s_.start_inflating()) return;
    const bool top_implicit = syntax.implicit;
    uint8_t b[8];
    for (;;) {
      while (!stack_.empty() && stack_.back().end != kOpen && s_.position() >= stack_.back().end) pop();
      const bool implicit = stack_.empty() ? top_implicit : stack_.back().implicit;
      if (!s_.read(b, 4)) return;
      const uint16_t group = u16(b), elem = u16(b + 2);
      if (group == 0xFFFE) {
        if (!s_.read(b, 4)) return;
        if (!delimiter(elem, u32(b))) return;
        continue;
      }
      uint8_t vr[2] = {'?', '?'};
      uint32_t len = 0;
      if (implicit) {
        if (!s_.read(b, 4)) return;
        len = u32(b);
      } else {
        if (!s_.read(vr, 2)) return;
        if (long_length(vr)) {  // two reserved bytes, then a 4-byte length
          if (!s_.read(b, 6)) return;
          len = u32(b + 2);
        } else {
          if (!s_.read(b, 2)) return;
          len = u16(b);
        }
      }
      const bool pixel_data = group == 0x7FE0 && elem == 0x0010;
      const bool un = vr[0] == 'U' && vr[1] == 'N';
      if (len == kUndefined) {
        // Undefined length: encapsulated pixel data, or a sequence (SQ, UN whose content is
        // implicit VR, or any element a reader would take for one).
        push({true, pixel_data, un ? true : implicit, kOpen});
        continue;
      }
      const uint64_t end = s_.position() + len;
      const bool sq = !implicit && vr[0] == 'S' && vr[1] == 'Q';
      // A defined-length value that starts with an item tag may be read as a sequence (implicit
      // VR, or UN read by its dictionary VR): counted as one.
      if (sq || ((implicit || un) && len >= 8 && starts_with_item())) {
        push({true, false, un ? true : implicit, end});
        continue;
      }
      if (!s_.skip(len)) return;
    }
  }

 private:
  bool starts_with_item() {
    uint8_t b[4];
    return s_.peek(b, 4) && u16(b) == 0xFFFE && u16(b + 2) == 0xE000;
  }

  // Item (E000), item delimiter (E00D) or sequence delimiter (E0DD); false to stop.
  bool delimiter(uint16_t elem, uint32_t len) {
    if (elem == 0xE000) {
      const bool in_fragments = !stack_.empty() && stack_.back().fragments;
      if (in_fragments) return len != kUndefined && s_.skip(len);
      const bool implicit = stack_.empty() ? false : stack_.back().implicit;
      push({false, false, implicit, len == kUndefined ? kOpen : s_.position() + len});
      return true;
    }
    if (elem == 0xE00D) {
      while (!stack_.empty()) {
        const bool item = !stack_.back().sequence;
        pop();
        if (item) break;
      }
      return true;
    }
    if (elem == 0xE0DD) {
      while (!stack_.empty()) {
        const bool sequence = stack_.back().sequence;
        pop();
        if (sequence) break;
      }
      return true;
    }
    return len != kUndefined && s_.skip(len);
  }

  void push(Frame f) {
    stack_.push_back(f);
    if (f.sequence && ++depth_ > max_depth_)
      throw UsageError(path_ + ": DICOM sequences nested more than " + std::to_string(max_depth_) +
                       " levels deep (no real image nests so deep; the file is malformed or hostile)");
  }
  void pop() {
    if (stack_.back().sequence) --depth_;
    stack_.pop_back();
  }

  // No usable meta group: the first element tells, as DCMTK guesses.
  Syntax guess() {
    uint8_t b[6];
    if (!s_.peek(b, 6)) return {};
    const bool letters = b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z';
    const bool swapped = b[0] == 0 && b[1] != 0;
    return {!letters, swapped && letters, false};
  }

  static uint16_t u16le(const uint8_t* b) { return static_cast<uint16_t>(b[0] | b[1] << 8); }
  static uint32_t u32le(const uint8_t* b) {
    return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 | static_cast<uint32_t>(b[2]) << 16 |
           static_cast<uint32_t>(b[3]) << 24;
  }
  uint16_t u16(const uint8_t* b) const { return big_ ? static_cast<uint16_t>(b[0] << 8 | b[1]) : u16le(b); }
  uint32_t u32(const uint8_t* b) const {
    return big_ ? static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 |
                      static_cast<uint32_t>(b[2]) << 8 | static_cast<uint32_t>(b[3])
                : u32le(b);
  }

  Stream& s_;
  const std::string& path_;
  const int max_depth_;
  bool big_ = false;
  int depth_ = 0;
  std::vector<Frame> stack_;
};

}  // namespace

void check_sequence_nesting(const std::string& path, int max_depth) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw UsageError("cannot open " + path);
  char head[132];
  const size_t got = std::fread(head, 1, sizeof head, f.get());
  const bool preamble = got == sizeof head && std::memcmp(head + 128, "DICM", 4) == 0;
  if (!preamble) std::rewind(f.get());
  Stream stream(f.get());
  Scanner scanner(stream, path, max_depth);
  scanner.data_set(scanner.meta_group());
}

}  // namespace cxr
