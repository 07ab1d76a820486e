// ArenaPlan: where the short-lived tensors of the network's memory plan live (plan_memory.h
// records it, the network allocates one block of bytes() and views into it).
//
// Plain data, no backend: every acquire() opens a buffer and its last release() closes it, on a
// clock of calls, so a buffer is alive in [opened, closed). place() then gives each buffer an
// offset in one block — largest first, at the lowest offset not used by any buffer alive at the
// same time (greedy by size) — so the block is close to the peak of bytes alive at once, with no
// fragmentation across differently sized tensors. Buffers still held at place() stay alive to
// the end (the logits' gradient). Offsets are multiples of 64 bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cxr {

struct ArenaBuffer {
  int64_t bytes = 0, offset = 0;   // rounded up to 64; offset valid after place()
  int64_t opened = 0, closed = 0;  // alive in [opened, closed)
  int holders = 0;
};

class ArenaPlan {
 public:
  int acquire(int64_t bytes);
  void retain(int buffer);  // one more holder; the buffer stays alive until every holder released it
  void release(int buffer);
  // Ends the recording and assigns offsets; acquire() after it is a GraphError.
  void place();
  bool placed() const { return placed_; }
  const std::vector<ArenaBuffer>& buffers() const { return buffers_; }
  const ArenaBuffer& buffer(int id) const { return buffers_.at(static_cast<size_t>(id)); }
  int64_t bytes() const { return block_bytes_; }  // the block place() needs
  // The largest number of bytes alive at one time: what any placement needs at least.
  int64_t peak_live_bytes() const { return peak_live_; }

 private:
  std::vector<ArenaBuffer> buffers_;
  int64_t clock_ = 0, live_ = 0, peak_live_ = 0, block_bytes_ = 0;
  bool placed_ = false;
};

}  // namespace cxr
