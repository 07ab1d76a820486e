#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"

namespace cxr {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw RuntimeFailure(what + " " + path + ": " + std::strerror(errno));
}

void fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write) {
  const std::filesystem::path target(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("cannot create", tmp);
  try {
    write(f);
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) {
    std::fclose(f);
    std::remove(tmp.c_str());
    fail("cannot write", tmp);
  }
  if (std::fclose(f) != 0) fail("cannot close", tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail("cannot rename onto", path);
  }
  fsync_dir(target.parent_path());
}

void write_file_atomic(const std::string& path, std::string_view content) {
  write_file_atomic(path, [&](std::FILE* f) {
    if (std::fwrite(content.data(), 1, content.size(), f) != content.size()) fail("cannot write", path);
  });
}

void append_line_durable(const std::string& path, std::string_view line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) fail("cannot open", path);
  std::string buf(line);
  buf.push_back('\n');
  const ssize_t n = ::write(fd, buf.data(), buf.size());
  const bool ok = n == static_cast<ssize_t>(buf.size()) && ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) fail("cannot append to", path);
}

}  // namespace cxr
