// One checkpoint file readable on every rank of a data-parallel run (issue #20): train's final
// test evaluation is sharded over the ranks, and each needs the best checkpoint, which rank 0
// alone wrote into its run directory. Ranks on other nodes may not see that directory (no shared
// file system is assumed), so rank 0 broadcasts the file's bytes and every other rank writes them
// to a private temporary file, removed when this object goes. One rank: rank 0's path, nothing copied.
// Collective: every rank constructs it at the same point. UsageError (on rank 0) when the file
// cannot be read; RuntimeFailure on a rank that cannot write its copy.
#pragma once
#include <string>

#include "engine/communicator.h"

namespace cxr {

class RankCheckpoint {
 public:
  // `rank0_path`: the file on rank 0 (ignored on the others).
  RankCheckpoint(Communicator& world, const std::string& rank0_path);
  ~RankCheckpoint();
  RankCheckpoint(const RankCheckpoint&) = delete;
  RankCheckpoint& operator=(const RankCheckpoint&) = delete;

  const std::string& path() const { return path_; }  // this rank's file

 private:
  std::string path_;
  bool temporary_ = false;
};

}  // namespace cxr
