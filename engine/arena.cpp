#include "engine/arena.h"

#include <algorithm>

#include "core/errors.h"

namespace cxr {
namespace {
constexpr int64_t kAlign = 64;  // every buffer starts on a cache line (and on a vector kernel's alignment)
int64_t aligned(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
}  // namespace

int ArenaPlan::acquire(int64_t bytes) {
  if (placed_) throw GraphError("memory plan: a buffer acquired after placement");
  ArenaBuffer b;
  b.bytes = aligned(bytes);
  b.opened = clock_++;
  b.holders = 1;
  buffers_.push_back(b);
  live_ += b.bytes;
  peak_live_ = std::max(peak_live_, live_);
  return static_cast<int>(buffers_.size() - 1);
}

void ArenaPlan::retain(int buffer) { ++buffers_.at(static_cast<size_t>(buffer)).holders; }

void ArenaPlan::release(int buffer) {
  ArenaBuffer& b = buffers_.at(static_cast<size_t>(buffer));
  if (b.holders <= 0) throw GraphError("memory plan: a buffer released more often than held");
  if (--b.holders == 0) {
    b.closed = clock_++;
    live_ -= b.bytes;
  }
}

void ArenaPlan::place() {
  for (ArenaBuffer& b : buffers_)
    if (b.holders > 0) b.closed = clock_;  // held to the end
  std::vector<size_t> order(buffers_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers_[a].bytes > buffers_[b].bytes; });
  std::vector<size_t> placed;
  for (size_t i : order) {
    ArenaBuffer& b = buffers_[i];
    // Address ranges of already placed buffers alive at the same time, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      const ArenaBuffer& o = buffers_[j];
      if (o.opened < b.closed && b.opened < o.closed) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + b.bytes <= begin) break;  // fits in the gap before this one
      offset = std::max(offset, end);
    }
    b.offset = offset;
    block_bytes_ = std::max(block_bytes_, offset + b.bytes);
    placed.push_back(i);
  }
  placed_ = true;
}

}  // namespace cxr
