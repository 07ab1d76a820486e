#include "tests/io/hostile_files.h"

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cxr::testing {
namespace {

std::string u16(uint16_t v) { return {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; }
std::string u32(uint32_t v) { return u16(static_cast<uint16_t>(v & 0xffff)) + u16(static_cast<uint16_t>(v >> 16)); }
std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}
std::string tag(uint16_t g, uint16_t e) { return u16(g) + u16(e); }

bool long_form(const std::string& vr) {
  for (const char* v : {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
    if (vr == v) return true;
  return false;
}

// Explicit VR element header with `length`.
std::string explicit_header(uint16_t g, uint16_t e, const std::string& vr, uint32_t length) {
  if (long_form(vr)) return tag(g, e) + vr + std::string(2, '\0') + u32(length);
  return tag(g, e) + vr + u16(static_cast<uint16_t>(length));
}

std::string padded(std::string value, const std::string& vr) {
  if (value.size() % 2) value += (vr == "OB" || vr == "UI" || vr == "UN" || vr == "OW") ? '\0' : ' ';
  return value;
}

}  // namespace

RawDicom::RawDicom(std::string transfer_syntax)
    : transfer_syntax_(std::move(transfer_syntax)), implicit_(transfer_syntax_ == kImplicitLE) {}

RawDicom& RawDicom::header(uint16_t g, uint16_t e, const char* vr, uint32_t length) {
  data_ += implicit_ ? tag(g, e) + u32(length) : explicit_header(g, e, vr, length);
  return *this;
}

RawDicom& RawDicom::element(uint16_t g, uint16_t e, const char* vr, std::string value) {
  value = padded(std::move(value), vr);
  header(g, e, vr, static_cast<uint32_t>(value.size()));
  data_ += value;
  return *this;
}

RawDicom& RawDicom::us(uint16_t g, uint16_t e, uint16_t value) { return element(g, e, "US", u16(value)); }
RawDicom& RawDicom::item(uint32_t length) { return raw(tag(0xFFFE, 0xE000) + u32(length)); }
RawDicom& RawDicom::item_end() { return raw(tag(0xFFFE, 0xE00D) + u32(0)); }
RawDicom& RawDicom::sequence_end() { return raw(tag(0xFFFE, 0xE0DD) + u32(0)); }
RawDicom& RawDicom::raw(const std::string& bytes) {
  data_ += bytes;
  return *this;
}

RawDicom& RawDicom::image_header(uint16_t rows, uint16_t columns, uint16_t bits_allocated, uint16_t bits_stored) {
  element(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.1.1");
  element(0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.10.1.1");
  element(0x0008, 0x0060, "CS", "DX");
  us(0x0028, 0x0002, 1);
  element(0x0028, 0x0004, "CS", "MONOCHROME2");
  us(0x0028, 0x0010, rows);
  us(0x0028, 0x0011, columns);
  us(0x0028, 0x0100, bits_allocated);
  us(0x0028, 0x0101, bits_stored);
  us(0x0028, 0x0102, static_cast<uint16_t>(bits_stored - 1));
  return us(0x0028, 0x0103, 0);
}

RawDicom& RawDicom::native_pixels(const std::string& bytes) { return element(0x7FE0, 0x0010, "OW", bytes); }

RawDicom& RawDicom::encapsulated_pixels(const std::vector<std::string>& fragments) {
  header(0x7FE0, 0x0010, "OB", kUndefined);
  item(0);
  for (const std::string& f : fragments) {
    const std::string even = padded(f, "OB");
    item(static_cast<uint32_t>(even.size()));
    raw(even);
  }
  return sequence_end();
}

std::string RawDicom::bytes() const {
  std::string meta = explicit_header(0x0002, 0x0001, "OB", 2) + std::string("\0\1", 2);
  const auto add = [&](uint16_t e, const std::string& v) {
    const std::string p = padded(v, "UI");
    meta += explicit_header(0x0002, e, "UI", static_cast<uint32_t>(p.size())) + p;
  };
  add(0x0002, "1.2.840.10008.5.1.4.1.1.1.1");
  add(0x0003, "1.2.826.0.1.3680043.10.1.1");
  add(0x0010, transfer_syntax_);
  add(0x0012, "1.2.826.0.1.3680043.10.1");
  const std::string group_length = explicit_header(0x0002, 0x0000, "UL", 4) + u32(static_cast<uint32_t>(meta.size()));
  return std::string(128, '\0') + "DICM" + group_length + meta + data_;
}

void RawDicom::write(const std::string& path) const { write_bytes(path, bytes()); }

std::string ramp_pixels(int rows, int columns, int max) {
  std::string out;
  const int n = rows * columns;
  for (int i = 0; i < n; ++i) out += u16(static_cast<uint16_t>(n > 1 ? static_cast<int64_t>(i) * max / (n - 1) : 0));
  return out;
}

std::string dicom_with_0028(int rows, int columns, const std::vector<std::pair<uint16_t, std::string>>& extra) {
  RawDicom d;
  d.image_header(static_cast<uint16_t>(rows), static_cast<uint16_t>(columns));
  for (const auto& [elem, value] : extra) d.element(0x0028, elem, "DS", value);
  d.native_pixels(ramp_pixels(rows, columns, 4000));
  return d.bytes();
}

std::string nested_sequences_dicom(int depth, const char* transfer_syntax, bool defined, bool un) {
  RawDicom d(transfer_syntax);
  d.image_header(4, 4);
  const bool implicit = d.implicit();
  // Performed Protocol Code Sequence (0040,0260): an SQ in the dictionary, after group 0028.
  const uint32_t sq_header = implicit ? 8 : 12, item_header = 8;
  if (defined) {
    // content[k]: the bytes inside the k-th item from the inside (the innermost is empty).
    std::vector<uint32_t> content(static_cast<size_t>(depth), 0);
    for (int k = 1; k < depth; ++k) content[k] = sq_header + item_header + content[k - 1];
    for (int k = depth - 1; k >= 0; --k) d.header(0x0040, 0x0260, "SQ", item_header + content[k]).item(content[k]);
  } else if (un) {
    d.header(0x0040, 0x0260, "UN", RawDicom::kUndefined).item();
    // Inside an undefined-length UN the content is implicit VR little endian.
    std::string inner;
    for (int k = 1; k < depth; ++k) inner += tag(0x0040, 0x0260) + u32(RawDicom::kUndefined) + tag(0xFFFE, 0xE000) + u32(RawDicom::kUndefined);
    for (int k = 1; k < depth; ++k) inner += tag(0xFFFE, 0xE00D) + u32(0) + tag(0xFFFE, 0xE0DD) + u32(0);
    d.raw(inner).item_end().sequence_end();
  } else {
    for (int k = 0; k < depth; ++k) d.header(0x0040, 0x0260, "SQ", RawDicom::kUndefined).item();
    for (int k = 0; k < depth; ++k) d.item_end().sequence_end();
  }
  d.native_pixels(ramp_pixels(4, 4, 1000));
  return d.bytes();
}

std::vector<std::string> encapsulated_fragments(const std::string& b) {
  const std::string start = tag(0x7FE0, 0x0010) + "OB" + std::string(2, '\0') + u32(RawDicom::kUndefined);
  size_t p = b.rfind(start);
  if (p == std::string::npos) throw std::runtime_error("no encapsulated pixel data");
  p += start.size();
  std::vector<std::string> out;
  bool offset_table = true;
  while (p + 8 <= b.size() && b.compare(p, 4, tag(0xFFFE, 0xE000)) == 0) {
    const uint32_t len = static_cast<uint8_t>(b[p + 4]) | static_cast<uint8_t>(b[p + 5]) << 8 |
                         static_cast<uint8_t>(b[p + 6]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(b[p + 7])) << 24;
    if (!offset_table) out.push_back(b.substr(p + 8, len));
    offset_table = false;
    p += 8 + len;
  }
  return out;
}

std::string rle_frame(const std::vector<uint16_t>& values) {
  std::string segments[2];
  for (int s = 0; s < 2; ++s) {
    for (size_t i = 0; i < values.size(); i += 128) {
      const size_t n = std::min<size_t>(128, values.size() - i);
      segments[s] += static_cast<char>(n - 1);
      for (size_t k = 0; k < n; ++k) segments[s] += static_cast<char>(s == 0 ? values[i + k] >> 8 : values[i + k] & 0xff);
    }
    if (segments[s].size() % 2) segments[s] += '\x80';  // a no-op control byte pads to even
  }
  std::string header = u32(2) + u32(64) + u32(static_cast<uint32_t>(64 + segments[0].size())) + std::string(13 * 4, '\0');
  return header + segments[0] + segments[1];
}

namespace {
std::string chunk(const char* type, const std::string& data) {
  const std::string body = std::string(type, 4) + data;
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  return be32(static_cast<uint32_t>(data.size())) + body + be32(crc);
}
}  // namespace

std::string png_file(uint32_t width, uint32_t height, int depth, int color_type, const std::string& idat_raw, int sbit) {
  std::string ihdr = be32(width) + be32(height);
  ihdr += static_cast<char>(depth);
  ihdr += static_cast<char>(color_type);
  ihdr += std::string(3, '\0');
  uLongf size = compressBound(static_cast<uLong>(idat_raw.size()));
  std::string z(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &size, reinterpret_cast<const Bytef*>(idat_raw.data()),
                static_cast<uLong>(idat_raw.size()), 9) != Z_OK)
    throw std::runtime_error("zlib");
  z.resize(size);
  std::string out = "\x89PNG\r\n\x1a\n" + chunk("IHDR", ihdr);
  if (sbit > 0) out += chunk("sBIT", std::string(color_type == 2 ? 3 : 1, static_cast<char>(sbit)));
  return out + chunk("IDAT", z) + chunk("IEND", "");
}

std::string png16(uint32_t width, uint32_t height, const std::vector<uint16_t>& values, int sbit) {
  std::string raw;
  for (uint32_t y = 0; y < height; ++y) {
    raw += '\0';
    for (uint32_t x = 0; x < width; ++x) {
      const uint16_t v = values[static_cast<size_t>(y) * width + x];
      raw += static_cast<char>(v >> 8);
      raw += static_cast<char>(v & 0xff);
    }
  }
  return png_file(width, height, 16, 0, raw, sbit);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

namespace {
// The process's folder of hostile files, removed when the test binary exits.
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("cxr_hostile_" + std::to_string(getpid()));
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
}  // namespace

std::string temp_path(const std::string& name) {
  static TempDir dir;
  std::filesystem::create_directories(dir.path);
  return (dir.path / name).string();
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = temp_path(name);
  write_bytes(path, bytes);
  return path;
}

}  // namespace cxr::testing
