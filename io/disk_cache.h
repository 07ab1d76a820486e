// Disk cache of working images (`data.cache: disk`): the resized display image of each file,
// kept as raw float32 so a cached epoch sees exactly the pixels a decoding epoch would. Later
// epochs and later runs over the same files skip DICOM decoding entirely.
// An entry's name is the SHA-256 of (absolute path, file size, modification time, working size,
// format version): a changed or replaced file misses, and neither names nor paths of patients'
// files appear in the cache folder. A missing, short or damaged entry is a miss, never an error;
// entries are written to a temporary file and renamed, so a killed run leaves no half entry.
#pragma once
#include <optional>
#include <string>

#include "io/image.h"

namespace cxr {

class DiskCache {
 public:
  // Creates `dir` when missing; UsageError naming it when it cannot be created.
  DiskCache(std::string dir, int64_t working_size);

  std::optional<Image> get(const std::string& image_path) const;
  // Best effort: a full disk or read-only folder costs speed, not the run (warned once).
  void put(const std::string& image_path, const Image& working) const;

  const std::string& dir() const { return dir_; }

 private:
  std::optional<std::string> entry_path(const std::string& image_path) const;

  std::string dir_;
  int64_t working_size_;
};

// $XDG_CACHE_HOME/cxrtune/images, else ~/.cache/cxrtune/images, else a folder under /tmp.
std::string default_disk_cache_dir();

}  // namespace cxr
