#include "core/file_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/errors.h"

namespace cxr {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw RuntimeFailure(what + ": " + std::strerror(err));
}

// Writes all of `bytes` to fd; false with errno set on failure.
bool write_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void fsync_path(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) fail(std::string("cannot open ") + path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail(std::string(what) + " " + path, err);
}

void copy_file(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY);
  if (in < 0) fail("cannot open " + from, errno);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    fail("cannot create " + to, err);
  }
  char buf[1 << 16];
  bool ok = true;
  for (;;) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    if (!write_all(out, std::string_view(buf, static_cast<size_t>(n)))) {
      ok = false;
      break;
    }
  }
  ok = ok && ::fsync(out) == 0;
  const int err = errno;
  ::close(in);
  ::close(out);
  if (!ok) fail("cannot copy " + from + " to " + to, err);
}

}  // namespace

FaultPlan FaultPlan::parse(const char* spec) {
  FaultPlan plan;
  if (!spec || !*spec) return plan;
  const std::string s(spec);
  if (s == "trace") {
    plan.kind = FaultKind::Trace;
    return plan;
  }
  const auto colon = s.find(':');
  const std::string kind = colon == std::string::npos ? "" : s.substr(colon + 1);
  try {
    size_t used = 0;
    plan.at = std::stoll(s.substr(0, colon), &used);
    if (used != colon || plan.at < 1) throw std::invalid_argument("count");
  } catch (const std::exception&) {
    throw UsageError("CXRTUNE_TEST_FAULT=" + s + ": expected <n>:kill, <n>:efbig or trace");
  }
  if (kind == "kill") plan.kind = FaultKind::Kill;
  else if (kind == "efbig") plan.kind = FaultKind::Efbig;
  else throw UsageError("CXRTUNE_TEST_FAULT=" + s + ": expected <n>:kill, <n>:efbig or trace");
  return plan;
}

FileOps::FileOps(FaultPlan plan) : plan_(plan) {}

void FileOps::note(const std::string& what) const {
  if (plan_.kind == FaultKind::Trace) std::fprintf(stderr, "cxrtune: fault trace: %s\n", what.c_str());
}

bool FileOps::fault_here(const char* op, const std::string& path, bool torn) {
  ++count_;
  if (plan_.kind == FaultKind::Trace)
    std::fprintf(stderr, "cxrtune: fault point %lld: %s %s\n", static_cast<long long>(count_), op, path.c_str());
  const bool hit = (plan_.kind == FaultKind::Kill || plan_.kind == FaultKind::Efbig) && count_ == plan_.at;
  if (hit && plan_.kind == FaultKind::Kill && !torn) ::kill(::getpid(), SIGKILL);
  return hit;
}

void FileOps::make_dir(const std::string& path) {
  if (fault_here("mkdir", path)) {
    fail("cannot create directory " + path, EFBIG);
  }
  if (::mkdir(path.c_str(), 0755) != 0) fail("cannot create directory " + path, errno);
}

void FileOps::write_file(const std::string& path, std::string_view bytes) {
  const bool fault = fault_here("write", path, /*torn=*/true);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail("cannot create " + path, errno);
  if (fault) {
    // A torn write: the first half reaches the file, then the process dies or the disk is full.
    write_all(fd, bytes.substr(0, bytes.size() / 2));
    if (plan_.kind == FaultKind::Kill) ::kill(::getpid(), SIGKILL);
    ::close(fd);
    fail("cannot write " + path, EFBIG);
  }
  const bool ok = write_all(fd, bytes);
  const int err = errno;
  if (::close(fd) != 0 || !ok) fail("cannot write " + path, ok ? errno : err);
}

void FileOps::fsync_file(const std::string& path) {
  if (fault_here("fsync", path)) {
    fail("cannot flush " + path, EFBIG);
  }
  fsync_path(path, O_RDONLY, "cannot flush");
}

void FileOps::fsync_dir(const std::string& path) {
  if (fault_here("fsync", path)) {
    fail("cannot flush directory " + path, EFBIG);
  }
  fsync_path(path, O_RDONLY | O_DIRECTORY, "cannot flush directory");
}

void FileOps::rename(const std::string& from, const std::string& to) {
  if (fault_here("rename", from + " -> " + to)) {
    fail("cannot rename " + from + " onto " + to, EFBIG);
  }
  if (std::rename(from.c_str(), to.c_str()) != 0) fail("cannot rename " + from + " onto " + to, errno);
}

void FileOps::link(const std::string& from, const std::string& to) {
  if (fault_here("link", from + " -> " + to)) {
    fail("cannot link " + to + " to " + from, EFBIG);
  }
  if (::link(from.c_str(), to.c_str()) == 0) return;
  // File systems without hard links (FAT, some network mounts) get a copy: the caller commits
  // it by rename as it would the link, so the reader never sees it half-written.
  if (errno == EPERM || errno == EXDEV || errno == ENOTSUP || errno == EMLINK || errno == ENOSYS) {
    copy_file(from, to);
    return;
  }
  fail("cannot link " + to + " to " + from, errno);
}

void FileOps::unlink(const std::string& path) {
  if (fault_here("unlink", path)) {
    fail("cannot remove " + path, EFBIG);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove " + path, errno);
}

void FileOps::remove_dir(const std::string& path) {
  if (fault_here("rmdir", path)) {
    fail("cannot remove directory " + path, EFBIG);
  }
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove directory " + path, errno);
}

}  // namespace cxr
