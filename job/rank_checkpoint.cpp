#include "job/rank_checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/errors.h"

namespace cxr {

namespace fs = std::filesystem;

RankCheckpoint::RankCheckpoint(Communicator& world, const std::string& rank0_path) {
  if (world.size() == 1) {
    path_ = rank0_path;
    return;
  }
  std::string bytes;
  if (world.rank() == 0) {
    std::ifstream in(rank0_path, std::ios::binary);
    if (!in) throw UsageError(rank0_path + ": cannot be read to share with the other ranks");
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    path_ = rank0_path;
  }
  broadcast_string(world, bytes, 0);
  if (world.rank() == 0) return;
  // mkstemp: a name no other process (another rank on this node, another run) can take.
  std::string name = (fs::temp_directory_path() / ("cxrtune-rank" + std::to_string(world.rank()) + "-XXXXXX")).string();
  const int fd = mkstemp(name.data());
  if (fd < 0) throw RuntimeFailure("rank " + std::to_string(world.rank()) + ": cannot create a temporary file for the checkpoint: " + std::strerror(errno));
  path_ = name;
  temporary_ = true;
  const char* p = bytes.data();
  for (size_t left = bytes.size(); left > 0;) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw RuntimeFailure(path_ + ": cannot write rank 0's checkpoint: " + why);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw RuntimeFailure(path_ + ": cannot write rank 0's checkpoint: " + std::strerror(errno));
}

RankCheckpoint::~RankCheckpoint() {
  if (!temporary_) return;
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace cxr
