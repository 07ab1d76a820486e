// Arena: the memory behind the network's plan (engine/network.cpp plans, this holds).
//
// One block shared by short-lived tensors: activations that backward does not read, and
// gradients. The network plans twice. The first pass only records: every acquire() opens a
// buffer and its last release() closes it, on a clock of calls. place() then gives each buffer
// an offset in one block — largest first, at the lowest offset not used by any buffer alive at
// the same time (greedy by size) — so the block is close to the peak of bytes alive at once, with
// no fragmentation across differently sized tensors. The second pass repeats the same calls and
// gets views into the block. At run time the plan is followed; nothing is allocated.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/backend.h"

namespace cxr {

class Arena {
 public:
  explicit Arena(Backend& backend) : backend_(backend) {}

  int acquire(int64_t bytes);
  void retain(int buffer);  // one more holder; the buffer stays alive until every holder released it
  void release(int buffer);
  // Ends the recording pass (see above) and allocates the block. Then the same sequence of
  // acquire/retain/release calls must follow; each acquire() returns the buffer it returned in
  // the first pass.
  void place();
  bool placed() const { return placed_; }
  // A tensor on the buffer's memory once placed; before, a view of nothing (planning only).
  Tensor view(int buffer, const TensorDesc& desc) const;
  int64_t bytes() const { return block_.defined() ? block_.bytes() : 0; }
  // The largest number of bytes alive at one time in the plan: what any placement needs at least.
  int64_t peak_live_bytes() const { return peak_live_; }

 private:
  struct Buffer {
    int64_t bytes = 0, offset = 0;
    int64_t opened = 0, closed = 0;  // clock of acquire/release calls: alive in [opened, closed)
    int holders = 0;
  };
  Backend& backend_;
  std::vector<Buffer> buffers_;
  int64_t clock_ = 0, live_ = 0, peak_live_ = 0;
  bool placed_ = false;
  size_t replayed_ = 0;  // second pass: the next buffer acquire() hands out
  Tensor block_;
};

}  // namespace cxr
