// Loader: the trainer's BatchSource over a Dataset. Worker threads decode and preprocess whole
// batches into preallocated 64-byte-aligned buffers (plain NCHW f32) ahead of the trainer, at
// most `prefetch` batches ahead. The order is fixed by (seed, epoch) — shuffled or ImageFolder
// order — and augmentation randomness by (seed, epoch, sample), so a resumed run sees the same
// batches. Training drops the last partial batch; evaluation keeps it. Optionally the working
// images (already resized) are cached in memory or on disk (io/disk_cache.h) after the first
// decode, so later epochs (and, on disk, later runs) skip DICOM decoding. Files are read with the
// working size as a hint (transforms.h decode_hints): a large JPEG is decoded at 1/2–1/8 size
// in the DCT domain before the resize. A file is unreadable
// when read_image (image_reader.h) refuses it: a UsageError naming it, whatever went wrong.
// on_bad_file skip: every file is decoded once up front, unreadable ones are named once on
// stderr and left out; fail: the first unreadable file stops the run with its name (exit 2).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "engine/trainer.h"
#include "io/dataset.h"
#include "io/disk_cache.h"
#include "io/image.h"
#include "io/input_limits.h"
#include "io/transforms.h"

namespace cxr {

struct LoaderConfig {
  int64_t batch_size = 32;
  TransformConfig transform;
  bool shuffle = true;
  bool drop_last = true;
  uint64_t seed = 0;
  int workers = 1;
  int prefetch = 2;
  bool cache = false;              // in memory
  std::string disk_cache_dir;      // non-empty: on disk, here
  bool skip_bad_files = false;
  InputLimits limits;              // what one image file may declare (data.max_image_pixels)
  // Data-parallel runs (issue #20): every rank has the same order and the same batches (of
  // batch_size, the global batch), and rank r decodes and returns only the r-th of `ranks`
  // slices of each, rows [r·n/ranks, (r+1)·n/ranks) of a batch of n. So which sample lands in
  // which step does not depend on the number of ranks, and a short evaluation batch is split
  // without a sample counted twice or lost (a slice may be empty).
  int rank = 0;
  int ranks = 1;
};

class Loader final : public BatchSource {
 public:
  Loader(Dataset dataset, LoaderConfig config);
  ~Loader() override;

  int64_t batches_per_epoch() const override;
  void start_epoch(int64_t epoch, int64_t skip) override;
  bool next(HostBatch& batch) override;

  const Dataset& dataset() const { return dataset_; }
  int64_t skipped_files() const { return skipped_; }

 private:
  struct Slot {
    Tensor images, targets;
    int64_t batch = -1, n = 0;
    bool ready = false;
  };
  void stop_workers();
  void work();
  void fill(Slot& slot, int64_t batch);
  // This rank's rows [first, second) of the epoch order for `batch`.
  std::pair<int64_t, int64_t> rows_of(int64_t batch) const;
  Image load(size_t sample);

  Dataset dataset_;
  LoaderConfig c_;
  std::vector<Slot> slots_;
  std::vector<size_t> order_;
  int64_t epoch_ = 0, next_batch_ = 0, end_batch_ = 0, consumed_ = 0;
  int64_t skipped_ = 0;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::exception_ptr error_;
  int64_t current_slot_ = -1;
  std::mutex cache_mutex_;
  std::map<size_t, std::shared_ptr<const Image>> cache_;
  std::unique_ptr<DiskCache> disk_cache_;
};

}  // namespace cxr
