// RunLock: one writer per run directory. An exclusive flock on RUN_DIR/.lock, held for the whole
// train job (the kernel drops it when the process dies, even by SIGKILL, so a killed run never
// leaves a stale lock). The holder writes its pid into the file so that a refused second writer
// can name it.
#pragma once
#include <string>

namespace cxr {

class RunLock {
 public:
  // UsageError (exit 2) naming the holder's pid when another process holds the lock;
  // RuntimeFailure when the lock file cannot be created.
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace cxr
