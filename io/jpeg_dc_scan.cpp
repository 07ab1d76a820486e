#include "io/jpeg_dc_scan.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace cxr {
namespace {

// Codes of up to kLookahead bits are decoded by one look-up of the next kLookahead bits; the
// rare longer ones (at most 16 bits) by T.81 F.2.2.3's procedure.
constexpr int kLookahead = 12;
constexpr size_t kPrefixes = size_t{1} << kLookahead;
// Zero bytes after the unstuffed data: a block reads at most 64 codes of 16 + 15 bits (under 256
// bytes), so a corrupt last segment is caught at its block's end before a load leaves the buffer.
constexpr size_t kPadding = 512;

// One Huffman table: per kLookahead-bit prefix the length of the code it starts with (0: longer,
// or no code) and that code's symbol; and, for the longer codes, the largest code of each length
// and the offset from a code to its symbol's index.
struct HuffmanTable {
  std::array<uint8_t, kPrefixes> length{};
  std::array<uint8_t, kPrefixes> symbol{};
  int32_t max_code[17] = {};
  int32_t symbol_offset[17] = {};
  uint8_t symbols[256] = {};
};

// T.81 C.2's canonical code, checked as libjpeg's jpeg_make_d_derived_tbl checks it (at most 256
// symbols, no length's codes overflowing it, DC symbols at most 15), so a table libjpeg refuses
// is refused here too and the file goes to libjpeg for its message.
bool build_table(const uint8_t* counts, const uint8_t* symbols, bool dc, HuffmanTable& t) {
  int total = 0, last_length = 0;
  for (int l = 1; l <= 16; ++l) {
    total += counts[l];
    if (counts[l]) last_length = l;
  }
  if (total > 256 || total == 0) return false;
  std::memcpy(t.symbols, symbols, static_cast<size_t>(total));
  int32_t code = 0;
  int index = 0;
  for (int l = 1; l <= 16; ++l) {
    t.symbol_offset[l] = index - code;
    for (int i = 0; i < counts[l]; ++i, ++index, ++code) {
      if (dc && symbols[index] > 15) return false;
      if (l > kLookahead) continue;
      const size_t first = static_cast<size_t>(code) << (kLookahead - l);
      const size_t end = static_cast<size_t>(code + 1) << (kLookahead - l);
      std::fill(t.length.begin() + static_cast<std::ptrdiff_t>(first), t.length.begin() + static_cast<std::ptrdiff_t>(end),
                static_cast<uint8_t>(l));
      std::fill(t.symbol.begin() + static_cast<std::ptrdiff_t>(first), t.symbol.begin() + static_cast<std::ptrdiff_t>(end),
                symbols[index]);
    }
    t.max_code[l] = counts[l] ? code - 1 : -1;
    if (l <= last_length && code >= (int32_t{1} << l)) return false;
    code <<= 1;
  }
  return true;
}

// How far an AC symbol moves the coefficient index: run + 1; 16 for ZRL; 64 for an end of block,
// which libjpeg reads for any symbol with no magnitude other than ZRL.
int coefficient_advance(int symbol) {
  const int run = symbol >> 4, magnitude = symbol & 15;
  return magnitude ? run + 1 : run == 15 ? 16 : 64;
}

// An AC code skipped in one step: per prefix, the bits to drop (the code and its magnitude bits)
// in the low byte and coefficient_advance in the high byte; 0: a code longer than kLookahead bits.
std::array<uint16_t, kPrefixes> ac_skips(const HuffmanTable& t) {
  std::array<uint16_t, kPrefixes> skip{};
  for (size_t p = 0; p < kPrefixes; ++p)
    if (t.length[p])
      skip[p] = static_cast<uint16_t>((coefficient_advance(t.symbol[p]) << 8) | (t.length[p] + (t.symbol[p] & 15)));
  return skip;
}

// MSB-first bits of byte-unstuffed entropy data, refilled without a branch (the buffer behind
// `next` is padded, so the 8-byte load never leaves it).
struct BitReader {
  const unsigned char* base;
  const unsigned char* next;
  uint64_t bits = 0;
  int count = 0;

  explicit BitReader(const unsigned char* start) : base(start), next(start) {}
  void refill() {
    uint64_t word;
    std::memcpy(&word, next, 8);
    bits |= __builtin_bswap64(word) >> count;
    next += (63 - count) >> 3;
    count |= 56;
  }
  uint32_t peek(int n) const { return static_cast<uint32_t>(bits >> (64 - n)); }
  void drop(int n) {
    bits <<= n;
    count -= n;
  }
  int64_t position() const { return (next - base) * 8 - count; }
};

// A code longer than kLookahead bits: its length and symbol, or false for no code (a bad code).
bool decode_long(const HuffmanTable& t, const BitReader& r, int& length, int& symbol) {
  const uint32_t code16 = r.peek(16);
  for (int l = kLookahead + 1; l <= 16; ++l) {
    const auto code = static_cast<int32_t>(code16 >> (16 - l));
    if (code <= t.max_code[l]) {
      length = l;
      symbol = t.symbols[code + t.symbol_offset[l]];
      return true;
    }
  }
  return false;
}

// The entropy-coded segments of the scan with stuffed bytes removed, as libjpeg reads them (a run
// of 0xFF then 0x00 is one 0xFF byte), split at the restart markers, which must come in sequence;
// `ends` gets each segment's end. False unless the scan ends at EOI.
bool unstuff(const DcScan& scan, std::vector<unsigned char>& clean, std::vector<size_t>& ends) {
  const unsigned char* d = scan.data;
  size_t i = 0;
  int expected_restart = 0;
  clean.reserve(scan.size + kPadding);
  for (;;) {
    const void* ff = std::memchr(d + i, 0xFF, scan.size - i);
    if (!ff) return false;
    const auto at = static_cast<size_t>(static_cast<const unsigned char*>(ff) - d);
    clean.insert(clean.end(), d + i, d + at);
    size_t k = at + 1;
    while (k < scan.size && d[k] == 0xFF) ++k;
    if (k >= scan.size) return false;
    const unsigned marker = d[k];
    i = k + 1;
    if (marker == 0x00) {
      clean.push_back(0xFF);
    } else if (marker >= 0xD0 && marker <= 0xD7) {
      if (scan.restart_interval == 0 || static_cast<int>(marker - 0xD0) != expected_restart) return false;
      expected_restart = (expected_restart + 1) & 7;
      ends.push_back(clean.size());
    } else if (marker == 0xD9) {
      ends.push_back(clean.size());
      return true;
    } else {
      return false;
    }
  }
}

// jpeg_idct_1x1: the dequantised DC over 8, rounded, through libjpeg's post-IDCT range-limit
// table, which reads its index modulo 1024 as a signed value and clamps it to a sample.
unsigned char dc_pixel(int dc, int quantizer) {
  int v = ((dc * quantizer + 4) >> 3) & 1023;
  if (v >= 512) v -= 1024;
  return static_cast<unsigned char>(std::clamp(v + 128, 0, 255));
}

}  // namespace

bool decode_dc_scan(const DcScan& scan, std::vector<unsigned char>& pixels) {
  if (scan.width <= 0 || scan.height <= 0 || !scan.data || !scan.dc_counts || !scan.ac_counts) return false;
  HuffmanTable dc_table, ac_table;
  if (!build_table(scan.dc_counts, scan.dc_symbols, true, dc_table) ||
      !build_table(scan.ac_counts, scan.ac_symbols, false, ac_table))
    return false;
  const std::array<uint16_t, kPrefixes> ac_skip = ac_skips(ac_table);

  std::vector<unsigned char> clean;
  std::vector<size_t> ends;
  if (!unstuff(scan, clean, ends)) return false;
  clean.resize(clean.size() + kPadding, 0);

  const int64_t blocks = ((scan.width + 7) / 8) * ((scan.height + 7) / 8);
  const int64_t per_segment = scan.restart_interval ? scan.restart_interval : blocks;
  if (static_cast<int64_t>(ends.size()) != (blocks + per_segment - 1) / per_segment) return false;
  pixels.resize(static_cast<size_t>(blocks));

  int64_t b = 0;
  for (size_t s = 0; s < ends.size(); ++s) {
    const size_t start = s ? ends[s - 1] : 0;
    const auto limit = static_cast<int64_t>(ends[s] - start) * 8;
    BitReader r(clean.data() + start);
    int dc = 0;  // the predictor restarts with every segment
    for (const int64_t last = std::min(blocks, b + per_segment); b < last; ++b) {
      r.refill();
      const uint32_t prefix = r.peek(kLookahead);
      int length = dc_table.length[prefix], category = dc_table.symbol[prefix];
      if (!length && !decode_long(dc_table, r, length, category)) return false;
      r.drop(length);
      if (category) {
        const auto v = static_cast<int>(r.peek(category));
        r.drop(category);
        dc += v < (1 << (category - 1)) ? v - (1 << category) + 1 : v;  // T.81 F.2.2.1 EXTEND
        if (dc > 2047 || dc < -2047) return false;  // no 8-bit image has it: libjpeg decides
      }
      for (int k = 1; k < 64;) {
        r.refill();
        const uint16_t step = ac_skip[r.peek(kLookahead)];
        if (step) {
          r.drop(step & 0xFF);
          k += step >> 8;
          continue;
        }
        int symbol = 0;
        if (!decode_long(ac_table, r, length, symbol)) return false;
        r.drop(length + (symbol & 15));
        k += coefficient_advance(symbol);
      }
      if (r.position() > limit) return false;  // the segment ended early: libjpeg would fill zeros
      pixels[static_cast<size_t>(b)] = dc_pixel(dc, scan.dc_quantizer);
    }
  }
  return true;
}

}  // namespace cxr
