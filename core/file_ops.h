// FileOps: the durable file operations a checkpoint commit is made of (write, fsync, rename,
// link, unlink, mkdir, rmdir), each one a numbered fault point. A test makes the n-th operation
// of a run kill the process or fail with EFBIG (a full disk) to prove that a kill or an I/O
// error at any moment leaves a checkpoint that resumes exactly. The plan is read once, where a
// job starts (CXRTUNE_TEST_FAULT), and passed down; without one every operation just runs.
//
// CXRTUNE_TEST_FAULT=<n>:kill   SIGKILL at operation n (a write writes half its bytes first)
// CXRTUNE_TEST_FAULT=<n>:efbig  operation n fails with EFBIG (a write writes half first)
// CXRTUNE_TEST_FAULT=trace      print every operation, numbered, to stderr
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace cxr {

enum class FaultKind { None, Kill, Efbig, Trace };

struct FaultPlan {
  int64_t at = 0;  // 1-based operation number
  FaultKind kind = FaultKind::None;
  // nullptr or "": no faults. UsageError on anything else that is not of the forms above.
  static FaultPlan parse(const char* spec);
};

class FileOps {
 public:
  explicit FileOps(FaultPlan plan = {});

  // Every operation throws RuntimeFailure naming the path and the system's reason.
  void make_dir(const std::string& path);
  void write_file(const std::string& path, std::string_view bytes);  // create or truncate; no fsync
  void fsync_file(const std::string& path);
  void fsync_dir(const std::string& path);
  void rename(const std::string& from, const std::string& to);
  // A hard link; on a file system without them, a copy (fsynced) under the new name.
  void link(const std::string& from, const std::string& to);
  void unlink(const std::string& path);
  void remove_dir(const std::string& path);  // empty directory

  // A line in the trace (what the following operations are for); nothing otherwise.
  void note(const std::string& what) const;
  int64_t count() const { return count_; }

 private:
  // Counts the operation; true when it is the planned fault. A planned kill happens here unless
  // `torn` (the caller writes part of its data first, then kills).
  bool fault_here(const char* op, const std::string& path, bool torn = false);

  FaultPlan plan_;
  int64_t count_ = 0;
};

}  // namespace cxr
