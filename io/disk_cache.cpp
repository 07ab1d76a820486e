#include "io/disk_cache.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include <unistd.h>

#include "core/errors.h"
#include "io/weights/sha256.h"

namespace cxr {
namespace fs = std::filesystem;

namespace {

// Bump when the working image's definition (resize filter, display pipeline) changes.
constexpr uint32_t kFormatVersion = 1;
constexpr char kMagic[4] = {'C', 'X', 'R', 'C'};

struct Header {
  char magic[4];
  uint32_t version;
  int64_t width, height;
};

std::atomic<bool> warned_unwritable{false};

}  // namespace

std::string default_disk_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "cxrtune" / "images").string();
  if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "cxrtune" / "images").string();
  return (fs::temp_directory_path() / "cxrtune-images").string();
}

DiskCache::DiskCache(std::string dir, int64_t working_size) : dir_(std::move(dir)), working_size_(working_size) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) throw UsageError("data.cache_dir: cannot create " + dir_ + ": " + ec.message());
}

std::optional<std::string> DiskCache::entry_path(const std::string& image_path) const {
  std::error_code ec;
  const fs::path abs = fs::absolute(image_path, ec);
  const auto size = fs::file_size(abs, ec);
  if (ec) return std::nullopt;
  const auto mtime = fs::last_write_time(abs, ec).time_since_epoch().count();
  if (ec) return std::nullopt;
  std::string key = abs.string();
  key.push_back('\0');
  key.append(std::to_string(size)).append(":").append(std::to_string(mtime)).append(":");
  key.append(std::to_string(working_size_)).append(":").append(std::to_string(kFormatVersion));
  const std::string h = sha256_hex(key);
  // Two-level fan-out keeps folders small for datasets of 100k+ images.
  return (fs::path(dir_) / h.substr(0, 2) / (h.substr(2) + ".f32")).string();
}

std::optional<Image> DiskCache::get(const std::string& image_path) const {
  const auto path = entry_path(image_path);
  if (!path) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  if (!in) return std::nullopt;
  Header h{};
  if (!in.read(reinterpret_cast<char*>(&h), sizeof h) || std::memcmp(h.magic, kMagic, 4) != 0 ||
      h.version != kFormatVersion || h.width < 1 || h.height < 1 || h.width > 65536 || h.height > 65536)
    return std::nullopt;
  Image img;
  img.width = h.width;
  img.height = h.height;
  img.pixels.resize(static_cast<size_t>(h.width * h.height));
  const auto bytes = static_cast<std::streamsize>(img.pixels.size() * sizeof(float));
  if (!in.read(reinterpret_cast<char*>(img.pixels.data()), bytes) || in.peek() != std::char_traits<char>::eof())
    return std::nullopt;
  img.facts.format = "cached";
  return img;
}

void DiskCache::put(const std::string& image_path, const Image& working) const {
  const auto path = entry_path(image_path);
  if (!path) return;
  std::error_code ec;
  fs::create_directories(fs::path(*path).parent_path(), ec);
  // Unique per thread and process: several workers or runs may write the same entry at once.
  const std::string tmp = *path + ".tmp" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())) +
                          "." + std::to_string(::getpid());
  bool ok = false;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    Header h{};
    std::memcpy(h.magic, kMagic, 4);
    h.version = kFormatVersion;
    h.width = working.width;
    h.height = working.height;
    out.write(reinterpret_cast<const char*>(&h), sizeof h);
    out.write(reinterpret_cast<const char*>(working.pixels.data()),
              static_cast<std::streamsize>(working.pixels.size() * sizeof(float)));
    ok = static_cast<bool>(out.flush());
  }
  if (ok) fs::rename(tmp, *path, ec);
  if (!ok || ec) {
    fs::remove(tmp, ec);
    if (!warned_unwritable.exchange(true))
      std::fprintf(stderr, "warning: cannot write to the image cache %s; continuing without it\n", dir_.c_str());
  }
}

}  // namespace cxr
