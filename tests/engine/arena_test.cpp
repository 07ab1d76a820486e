// The arena plan's placement: buffers alive at the same time never share bytes, buffers that are
// not reuse them, the block stays near the peak of live bytes, and the plan is closed once placed.
#include <gtest/gtest.h>

#include <random>

#include "core/errors.h"
#include "engine/arena.h"

namespace cxr {
namespace {

TEST(Arena, LifetimesThatDoNotOverlapShareMemory) {
  ArenaPlan arena;
  const int a = arena.acquire(1024), b = arena.acquire(1024);
  arena.release(a);
  const int c = arena.acquire(1000);  // may take a's bytes (rounded up to 1024)
  arena.retain(c);
  arena.release(c);
  arena.release(b);
  arena.release(c);
  arena.place();
  EXPECT_EQ(arena.bytes(), 2048);
  EXPECT_EQ(arena.peak_live_bytes(), 2048);
  EXPECT_NE(arena.buffer(a).offset, arena.buffer(b).offset);
  EXPECT_NE(arena.buffer(c).offset, arena.buffer(b).offset);
  EXPECT_EQ(arena.buffer(c).offset, arena.buffer(a).offset);
  EXPECT_EQ(arena.buffer(c).bytes, 1024);
}

TEST(Arena, RandomPlansNeverOverlapLiveBuffersAndStayNearThePeak) {
  for (int seed = 0; seed < 20; ++seed) {
    ArenaPlan arena;
    std::mt19937 rng(static_cast<unsigned>(seed));
    struct Life {
      int id;
      int64_t bytes, from, to;
    };
    std::vector<Life> lives;
    std::vector<int> open;
    int64_t clock = 0;
    for (int step = 0; step < 300; ++step, ++clock) {
      if (open.empty() || rng() % 2) {
        const int64_t bytes = 64 * (1 + static_cast<int64_t>(rng() % 1000));
        open.push_back(arena.acquire(bytes));
        lives.push_back({open.back(), bytes, clock, -1});
      } else {
        const size_t k = rng() % open.size();
        arena.release(open[k]);
        for (Life& l : lives)
          if (l.id == open[k]) l.to = clock;
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(k));
      }
    }
    for (Life& l : lives)
      if (l.to < 0) l.to = clock;
    arena.place();
    for (size_t i = 0; i < lives.size(); ++i)
      for (size_t j = i + 1; j < lives.size(); ++j) {
        const Life &x = lives[i], &y = lives[j];
        if (x.from >= y.to || y.from >= x.to) continue;  // never alive together
        const int64_t px = arena.buffer(x.id).offset, py = arena.buffer(y.id).offset;
        EXPECT_TRUE(px + x.bytes <= py || py + y.bytes <= px) << "seed " << seed << ": " << i << " and " << j;
      }
    for (const ArenaBuffer& b : arena.buffers()) EXPECT_LE(b.offset + b.bytes, arena.bytes());
    EXPECT_GE(arena.bytes(), arena.peak_live_bytes());
    EXPECT_LE(arena.bytes(), arena.peak_live_bytes() * 3 / 2) << "seed " << seed;
  }
}

TEST(Arena, APlacedPlanTakesNoMoreBuffersAndAReleaseTooManyIsRefused) {
  ArenaPlan arena;
  const int a = arena.acquire(128);
  arena.release(a);
  EXPECT_THROW(arena.release(a), GraphError);
  arena.place();
  EXPECT_THROW(arena.acquire(4096), GraphError);
}

}  // namespace
}  // namespace cxr
