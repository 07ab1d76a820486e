// The arena's placement: buffers alive at the same time never share bytes, buffers that are not
// reuse them, the block stays near the peak of live bytes, and the second planning pass must
// repeat the first.
#include <gtest/gtest.h>

#include <random>

#include "engine/arena.h"
#include "core/errors.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

TEST(Arena, LifetimesThatDoNotOverlapShareMemory) {
  auto backend = make_backend("reference", 1);
  Arena arena(*backend);
  const TensorDesc d = plain_desc({256});  // 1 KiB
  auto plan = [&] {
    const int a = arena.acquire(1024), b = arena.acquire(1024);
    arena.release(a);
    const int c = arena.acquire(1024);  // may take a's bytes
    arena.retain(c);
    arena.release(c);
    arena.release(b);
    arena.release(c);
    return std::vector<int>{a, b, c};
  };
  const auto first = plan();
  arena.place();
  const auto again = plan();
  EXPECT_EQ(first, again);
  EXPECT_EQ(arena.bytes(), 2048);
  EXPECT_EQ(arena.peak_live_bytes(), 2048);
  const Tensor a = arena.view(again[0], d), b = arena.view(again[1], d), c = arena.view(again[2], d);
  EXPECT_NE(a.data(), b.data());
  EXPECT_NE(c.data(), b.data());
  EXPECT_EQ(c.data(), a.data());
}

TEST(Arena, RandomPlansNeverOverlapLiveBuffersAndStayNearThePeak) {
  auto backend = make_backend("reference", 1);
  for (int seed = 0; seed < 20; ++seed) {
    Arena arena(*backend);
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
    const TensorDesc one = plain_desc({1});
    for (size_t i = 0; i < lives.size(); ++i)
      for (size_t j = i + 1; j < lives.size(); ++j) {
        const Life &x = lives[i], &y = lives[j];
        if (x.from >= y.to || y.from >= x.to) continue;  // never alive together
        const auto* px = static_cast<const char*>(arena.view(x.id, one).data());
        const auto* py = static_cast<const char*>(arena.view(y.id, one).data());
        EXPECT_TRUE(px + x.bytes <= py || py + y.bytes <= px) << "seed " << seed << ": " << i << " and " << j;
      }
    EXPECT_GE(arena.bytes(), arena.peak_live_bytes());
    EXPECT_LE(arena.bytes(), arena.peak_live_bytes() * 3 / 2) << "seed " << seed;
  }
}

TEST(Arena, ASecondPassThatDiffersIsRefused) {
  auto backend = make_backend("reference", 1);
  Arena arena(*backend);
  arena.release(arena.acquire(128));
  arena.place();
  EXPECT_THROW(arena.acquire(4096), GraphError);
}

}  // namespace
}  // namespace cxr
