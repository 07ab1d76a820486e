// Hostile .pth files, built here (pth_builder) so that any storage size, offset, size and stride
// can be declared. Every index a file declares is checked without wrapping, and a storage's
// declared size against its zip entry, before a byte is read or anything the file declares is
// allocated (an AllocationCap turns any large request into a failure). Refusals are UsageErrors
// naming the file and the tensor. This file also runs in weights_sanitized_tests (ASan + UBSan),
// where an out-of-bounds read or a wrapped signed multiply fails even if the reader returned.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/errors.h"
#include "io/input_limits.h"
#include "io/weights/pth_reader.h"
#include "io/weights/weights_file.h"
#include "tests/weights/allocation_cap.h"
#include "tests/weights/pth_builder.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using fixture::AllocationCap;
using fixture::f32_bytes;
using fixture::PthTensor;
using fixture::u16_bytes;

constexpr int64_t k2p62 = int64_t{1} << 62;
constexpr size_t kCap = size_t{64} << 20;  // far above every tensor below, far below what they declare

PthTensor tensor(int64_t storage_numel, int64_t offset, std::vector<int64_t> size, std::vector<int64_t> stride,
                 const char* type = "FloatStorage") {
  PthTensor t;
  t.storage_numel = storage_numel;
  t.offset = offset;
  t.size = std::move(size);
  t.stride = std::move(stride);
  t.storage_type = type;
  return t;
}

class HostilePth : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cxr_hostile_pth_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<PthTensor>& tensors,
                    const std::map<std::string, std::string>& storages) {
    const std::string path = (dir_ / name).string();
    fixture::write_bytes(path, fixture::pth_zip(tensors, storages));
    return path;
  }
  // A single tensor "w" over storage "0" holding `storage`.
  std::string write(const std::string& name, const PthTensor& t, const std::string& storage) {
    return write(name, std::vector<PthTensor>{t}, {{"0", storage}});
  }

  fs::path dir_;
};

// The UsageError read_weights refuses `path` with, or "accepted". Any other exception escapes
// and fails the test.
std::string refusal(const std::string& path, const InputLimits& limits = {}) {
  try {
    read_weights(path, limits);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "accepted";
}

#define EXPECT_REFUSED(path, needle)                                                   \
  do {                                                                                 \
    const std::string why_ = refusal(path);                                            \
    EXPECT_NE(why_.find(path), std::string::npos) << why_;                             \
    EXPECT_NE(why_.find("tensor w"), std::string::npos) << why_;                       \
    EXPECT_NE(why_.find(needle), std::string::npos) << why_;                           \
  } while (0)

// size [3], stride [2^62 + 2^40]: the extent 2·stride wrapped to a negative number, passed the
// bounds check, and materialise's memcpy read 4 TiB past the storage (SIGSEGV).
TEST_F(HostilePth, StrideWhoseExtentWrapsIsRefused) {
  const AllocationCap cap(kCap);
  const std::string path = write("stride.pth", tensor(4, 0, {3}, {k2p62 + (int64_t{1} << 40)}), f32_bytes({1, 2, 3, 4}));
  EXPECT_REFUSED(path, "outside its storage");
}

// offset 2^63 − 1, size [2]: offset + 1 wrapped, and offset·4 pointed 4 bytes before the heap
// block the storage was read into; the file was accepted with those bytes in it.
TEST_F(HostilePth, OffsetNearInt64MaxIsRefused) {
  const AllocationCap cap(kCap);
  const std::string path =
      write("offset.pth", tensor(4, std::numeric_limits<int64_t>::max(), {2}, {1}), f32_bytes({1, 2, 3, 4}));
  EXPECT_REFUSED(path, "outside its storage");
}

// A 16-byte storage, offset 2^62 + 4, size [1023], stride [2^62 + 1]: every element's byte
// offset wrapped to 16 + 4k, so `weights convert` copied 4,092 bytes of process heap into its
// output and exited 0.
TEST_F(HostilePth, WrappingStrideCannotCopyTheHeap) {
  const AllocationCap cap(kCap);
  const std::string path = write("heap.pth", tensor(4, k2p62 + 4, {1023}, {k2p62 + 1}), f32_bytes({1, 2, 3, 4}));
  EXPECT_REFUSED(path, "outside its storage");
}

// Storages of 2^34 and 2^30 floats over a 16-byte entry: the first ended in "internal error:
// std::bad_alloc", the second allocated and zeroed 4.2 GB before it was refused. The declared
// size is now compared with the entry's before anything is allocated.
TEST_F(HostilePth, DeclaredStorageMustMatchItsEntryBeforeAllocating) {
  for (const int64_t numel : {int64_t{1} << 34, int64_t{1} << 30}) {
    SCOPED_TRACE(numel);
    const AllocationCap cap(kCap);
    const std::string path = write("big.pth", tensor(numel, 0, {numel}, {1}), f32_bytes({1, 2, 3, 4}));
    EXPECT_REFUSED(path, "holds 16 bytes");
    EXPECT_EQ(cap.refused(), 0) << "allocated " << cap.largest() << " bytes before refusing";
  }
  // Longer than declared is as wrong as shorter.
  const std::string longer = write("longer.pth", tensor(2, 0, {2}, {1}), f32_bytes({1, 2, 3, 4}));
  EXPECT_REFUSED(longer, "holds 16 bytes");
}

// The zip's own record of an entry's size can lie too: 1 GiB "held" in 16 stored bytes matches
// what the pickle declares, and was allocated before the short read was noticed. An entry may
// claim no more than its stored bytes (deflated: 1032 times them) can hold.
TEST_F(HostilePth, ZipEntrySizeMustFitItsStoredBytes) {
  const int64_t numel = int64_t{1} << 28;
  std::string zip = fixture::pth_zip({tensor(numel, 0, {numel}, {1})}, {{"0", f32_bytes({1, 2, 3, 4})}});
  fixture::set_entry_size(zip, "archive/data/0", static_cast<uint32_t>(numel * 4));
  const std::string path = (dir_ / "lying_zip.pth").string();
  fixture::write_bytes(path, zip);
  const AllocationCap cap(kCap);
  EXPECT_REFUSED(path, "from 16 stored bytes");
  EXPECT_EQ(cap.refused(), 0) << "allocated " << cap.largest() << " bytes before refusing";
  // A deflated file (not what torch writes, but what re-zipping gives) reads exactly.
  std::vector<float> values(4096, 0.5f);
  const std::string deflated = (dir_ / "deflated.pth").string();
  fixture::write_bytes(deflated, fixture::pth_zip({tensor(4096, 0, {4096}, {1})}, {{"0", f32_bytes(values)}}, true));
  EXPECT_EQ(read_weights(deflated).tensors.at(0).to_f32(), values);
}

// A 1-element storage viewed with stride 0 as 10^9 elements: accepted, and 3.9 GB allocated. A
// tensor is now held to InputLimits::max_tensor_bytes once materialised, before it is allocated.
TEST_F(HostilePth, StrideZeroExpansionIsHeldToTheTensorLimit) {
  const AllocationCap cap(kCap);
  const std::string path = write("expand.pth", tensor(1, 0, {1000000000}, {0}), f32_bytes({7}));
  EXPECT_REFUSED(path, "limit");
  EXPECT_EQ(cap.refused(), 0);
  // A small expansion is a legal view and reads as copies.
  const StateDict d = read_weights(write("small.pth", tensor(1, 0, {2, 3}, {0, 0}), f32_bytes({7})));
  EXPECT_EQ(d.tensors.at(0).to_f32(), std::vector<float>(6, 7.0f));
}

TEST_F(HostilePth, TensorLimitIsTheCallersToSet) {
  const std::string path = write("k.pth", tensor(512, 0, {512}, {1}), f32_bytes(std::vector<float>(512, 1.0f)));
  InputLimits limits;
  limits.max_tensor_bytes = 2048;
  EXPECT_EQ(read_pth(path, limits).tensors.at(0).numel(), 512);
  limits.max_tensor_bytes = 2047;
  const std::string why = refusal(path, limits);
  EXPECT_NE(why.find(path), std::string::npos) << why;
  EXPECT_NE(why.find("tensor w"), std::string::npos) << why;
  EXPECT_NE(why.find("2048 bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("model.max_tensor_mib"), std::string::npos) << why;
  // A shared storage is held to the limit too: it is read whole, whatever its views take.
  PthTensor row = tensor(512, 0, {8}, {1});
  PthTensor other = row;
  other.name = "v";
  other.offset = 8;
  limits.max_tensor_bytes = 1024;
  const std::string shared =
      write("shared.pth", std::vector<PthTensor>{row, other}, {{"0", f32_bytes(std::vector<float>(512, 1.0f))}});
  EXPECT_NE(refusal(shared, limits).find("storage"), std::string::npos) << refusal(shared, limits);
}

// Every other way an index could wrap or point outside, each refused naming the file.
TEST_F(HostilePth, EveryDeclaredIndexIsChecked) {
  const AllocationCap cap(kCap);
  const std::string four = f32_bytes({1, 2, 3, 4});
  const std::pair<PthTensor, const char*> cases[] = {
      {tensor(4, 0, {-1}, {1}), "negative size"},
      {tensor(4, 0, {2}, {-1}), "negative stride"},
      {tensor(4, -1, {1}, {1}), "negative storage offset"},
      {tensor(4, 0, {int64_t{1} << 32, int64_t{1} << 32}, {0, 0}), "overflows"},   // element count
      {tensor(4, 0, {k2p62}, {0}), "overflows"},                                    // count × 4 bytes
      {tensor(4, 0, {2, 2}, {k2p62, k2p62}), "outside its storage"},                // the sum wraps
      {tensor(4, 2, {2, 2}, {1, 1}), "outside its storage"},                        // plain, no wrap
      {tensor(4, 5, {0}, {1}), "outside its storage"},                              // empty, offset past the end
      {tensor(k2p62, 0, {1}, {1}), "storage"},                                      // numel × 4 overflows
      {tensor(-4, 0, {1}, {1}), "negative storage size"}};
  for (const auto& [t, needle] : cases) {
    const std::string path = write("case.pth", t, four);
    const std::string why = refusal(path);
    EXPECT_NE(why.find(path), std::string::npos) << needle << ": " << why;
    EXPECT_NE(why.find(needle), std::string::npos) << why;
  }
  EXPECT_EQ(cap.refused(), 0);
  // One storage key declared with two sizes (torch.save refuses to write that).
  PthTensor a = tensor(4, 0, {4}, {1}), b = tensor(2, 0, {2}, {1});
  b.name = "b";
  const std::string twice = write("twice.pth", std::vector<PthTensor>{a, b}, {{"0", four}});
  EXPECT_NE(refusal(twice).find("declared twice"), std::string::npos) << refusal(twice);
}

// The checks refuse nothing torch writes: views with offsets, transposes, shared storages,
// empty and 0-d tensors read back exactly.
TEST_F(HostilePth, LegalViewsStillReadExactly) {
  std::vector<float> base(24);
  for (int i = 0; i < 24; ++i) base[static_cast<size_t>(i)] = static_cast<float>(i);
  PthTensor whole = tensor(24, 0, {4, 6}, {6, 1}), t = tensor(24, 0, {6, 4}, {1, 6}), cols = tensor(24, 2, {4, 3}, {6, 1});
  PthTensor empty = tensor(24, 24, {0, 5}, {5, 1}), scalar = tensor(24, 23, {}, {});
  t.name = "t";
  cols.name = "cols";
  empty.name = "empty";
  scalar.name = "scalar";
  const StateDict d = read_weights(
      write("views.pth", std::vector<PthTensor>{whole, t, cols, empty, scalar}, {{"0", f32_bytes(base)}}));
  ASSERT_EQ(d.tensors.size(), 5u);
  EXPECT_EQ(d.find("w")->to_f32(), base);
  const auto tt = d.find("t")->to_f32();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(tt[static_cast<size_t>(i * 4 + j)], base[static_cast<size_t>(j * 6 + i)]);
  EXPECT_EQ(d.find("cols")->to_f32(), (std::vector<float>{2, 3, 4, 8, 9, 10, 14, 15, 16, 20, 21, 22}));
  EXPECT_EQ(d.find("empty")->shape, (Shape{0, 5}));
  EXPECT_TRUE(d.find("empty")->bytes.empty());
  EXPECT_EQ(d.find("scalar")->to_f32(), std::vector<float>{23});
  // The same file from memory (what the fuzz target reads).
  const StateDict m = parse_pth(fixture::pth_zip({whole}, {{"0", f32_bytes(base)}}), "mem.pth");
  EXPECT_EQ(m.find("w")->to_f32(), base);
}

// NaN or infinity in a float tensor would poison training from the first step; refused on load.
TEST_F(HostilePth, NonFiniteValuesAreRefusedNamingTheTensor) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::pair<PthTensor, std::string> cases[] = {
      {tensor(3, 0, {3}, {1}), f32_bytes({1, nan, 2})},
      {tensor(3, 0, {3}, {1}), f32_bytes({1, 2, inf})},
      {tensor(3, 0, {3}, {1}), f32_bytes({-inf, 2, 3})},
      {tensor(2, 0, {2}, {1}, "HalfStorage"), u16_bytes({0x3c00, 0x7e00})},      // 1, NaN
      {tensor(2, 0, {2}, {1}, "HalfStorage"), u16_bytes({0xfc00, 0x3c00})},      // −inf, 1
      {tensor(2, 0, {2}, {1}, "BFloat16Storage"), u16_bytes({0x7fc0, 0x3f80})},  // NaN, 1
      {tensor(2, 0, {2}, {1}, "BFloat16Storage"), u16_bytes({0x3f80, 0x7f80})},  // 1, inf
      {tensor(4, 1, {2}, {2}), f32_bytes({0, 1, 0, nan})}};                      // a strided view
  for (const auto& [t, bytes] : cases) {
    const std::string path = write("nan.pth", t, bytes);
    const std::string why = refusal(path);
    EXPECT_NE(why.find(path), std::string::npos) << why;
    EXPECT_NE(why.find("tensor w"), std::string::npos) << why;
    EXPECT_TRUE(why.find("NaN") != std::string::npos || why.find("infinite") != std::string::npos) << why;
  }
  // Only floats: any int64 bit pattern is a number, and the largest finite values are fine.
  const int64_t big = -1;
  std::string bits(8, '\0');
  std::memcpy(bits.data(), &big, 8);
  EXPECT_EQ(refusal(write("long.pth", tensor(1, 0, {1}, {1}, "LongStorage"), bits)), "accepted");
  EXPECT_EQ(refusal(write("max.pth", tensor(1, 0, {1}, {1}), f32_bytes({std::numeric_limits<float>::max()}))),
            "accepted");
}

// A std::exception from inside a reader (here a bad_alloc from a cap below a legal tensor) is
// that file's error: a UsageError naming it, exit 2, not "internal error" (exit 3).
TEST_F(HostilePth, EscapingExceptionsNameTheFile) {
  const std::string path = write("ok.pth", tensor(16384, 0, {16384}, {1}), f32_bytes(std::vector<float>(16384, 1.0f)));
  const AllocationCap cap(32 << 10);  // above the reader's buffers, below the tensor's 64 KiB
  const std::string why = refusal(path);
  EXPECT_NE(why.find(path), std::string::npos) << why;
  EXPECT_NE(why.find("memory"), std::string::npos) << why;
  EXPECT_GT(cap.refused(), 0);
}

}  // namespace
}  // namespace cxr
