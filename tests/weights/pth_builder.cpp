#include "tests/weights/pth_builder.h"

#include <zip.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace cxr::fixture {
namespace {

void unicode(std::string& p, const std::string& s) {  // BINUNICODE: u32 length, bytes
  p += 'X';
  const auto n = static_cast<uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) p += static_cast<char>((n >> (8 * i)) & 0xff);
  p += s;
}

void int64(std::string& p, int64_t v) {  // LONG1 with 8 bytes: any int64, two's complement
  p += '\x8a';
  p += '\x08';
  const auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) p += static_cast<char>((u >> (8 * i)) & 0xff);
}

void ints(std::string& p, const std::vector<int64_t>& v) {  // MARK ... TUPLE
  p += '(';
  for (int64_t x : v) int64(p, x);
  p += 't';
}

[[noreturn]] void zip_failure(const char* step, zip_error_t* error) {
  const std::string why = zip_error_strerror(error);
  zip_error_fini(error);
  throw std::runtime_error(std::string("pth_zip: ") + step + ": " + why);
}

}  // namespace

std::string pth_pickle(const std::vector<PthTensor>& tensors) {
  std::string p = "\x80\x02}";
  for (const PthTensor& t : tensors) {
    unicode(p, t.name);
    p += "ctorch._utils\n_rebuild_tensor_v2\n(";
    p += '(';
    unicode(p, "storage");
    p += "ctorch\n" + t.storage_type + "\n";
    unicode(p, t.storage_key);
    unicode(p, "cpu");
    int64(p, t.storage_numel);
    p += "tQ";
    int64(p, t.offset);
    ints(p, t.size);
    ints(p, t.stride);
    p += "\x89" "ccollections\nOrderedDict\n)R";
    p += "tRs";
  }
  p += '.';
  return p;
}

std::string pth_zip(const std::vector<PthTensor>& tensors, const std::map<std::string, std::string>& storages,
                    bool deflate) {
  std::vector<std::pair<std::string, std::string>> entries{{"archive/data.pkl", pth_pickle(tensors)},
                                                           {"archive/version", "3\n"}};
  for (const auto& [key, bytes] : storages) entries.emplace_back("archive/data/" + key, bytes);

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* image = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!image) zip_failure("buffer", &error);
  zip_source_keep(image);  // outlives the archive: the zip is read back from it after zip_close
  zip_t* archive = zip_open_from_source(image, ZIP_TRUNCATE, &error);
  if (!archive) {
    zip_source_free(image);
    zip_failure("open", &error);
  }
  for (const auto& [name, bytes] : entries) {
    zip_source_t* s = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    const zip_int64_t index = s ? zip_file_add(archive, name.c_str(), s, ZIP_FL_ENC_UTF_8) : -1;
    const zip_int32_t method = deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
    if (index < 0 || zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), method, 0) != 0) {
      if (s && index < 0) zip_source_free(s);
      zip_discard(archive);
      zip_source_free(image);
      throw std::runtime_error("pth_zip: cannot add " + name);
    }
  }
  if (zip_close(archive) != 0) {
    zip_discard(archive);
    zip_source_free(image);
    throw std::runtime_error("pth_zip: cannot write the archive");
  }
  std::string out;
  if (zip_source_open(image) != 0) {
    zip_source_free(image);
    throw std::runtime_error("pth_zip: cannot reopen the image");
  }
  zip_source_seek(image, 0, SEEK_END);
  out.resize(static_cast<size_t>(zip_source_tell(image)));
  zip_source_seek(image, 0, SEEK_SET);
  const zip_int64_t got = zip_source_read(image, out.data(), out.size());
  zip_source_close(image);
  zip_source_free(image);
  if (got != static_cast<zip_int64_t>(out.size())) throw std::runtime_error("pth_zip: short read of the image");
  return out;
}

void set_entry_size(std::string& zip, const std::string& entry, uint32_t size) {
  // (signature, offset of the uncompressed size, offset of the name length, offset of the name)
  const struct { const char* signature; size_t size_at, name_len_at, name_at; } records[] = {
      {"PK\x03\x04", 22, 26, 30}, {"PK\x01\x02", 24, 28, 46}};
  for (const auto& r : records) {
    bool found = false;
    for (size_t at = zip.find(r.signature); at != std::string::npos; at = zip.find(r.signature, at + 4)) {
      if (at + r.name_at > zip.size()) break;
      const size_t len = static_cast<uint8_t>(zip[at + r.name_len_at]) | static_cast<uint8_t>(zip[at + r.name_len_at + 1]) << 8;
      if (zip.compare(at + r.name_at, len, entry) != 0 || len != entry.size()) continue;
      for (size_t i = 0; i < 4; ++i) zip[at + r.size_at + i] = static_cast<char>((size >> (8 * i)) & 0xff);
      found = true;
    }
    if (!found) throw std::runtime_error("set_entry_size: no record of " + entry);
  }
}

std::string f32_bytes(const std::vector<float>& values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::string u16_bytes(const std::vector<uint16_t>& values) {
  std::string out(values.size() * 2, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace cxr::fixture
