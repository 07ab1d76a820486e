// The loader with hostile files among good ones: under data.on_bad_file: skip each is left out
// and named on stderr, with nothing else printed and no crash; under fail, the first stops the
// epoch with a UsageError naming it, from a worker thread, with the libraries' messages folded
// in and not printed. The recipe's pixel limit reaches the readers through LoaderConfig.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "io/loader.h"
#include "io/png_io.h"
#include "io/synthetic_cxr.h"
#include "tests/io/hostile_files.h"

namespace cxr {
namespace {

using namespace cxr::testing;
namespace fs = std::filesystem;

std::vector<uint16_t> ramp(int n) {
  std::vector<uint16_t> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<uint16_t>(i * 4000 / (n - 1)));
  return v;
}

// Two good PNGs and the hostile files of the first issue, one class.
Dataset hostile_dataset() {
  const fs::path dir = fs::path(temp_path("loader")) / "A";
  fs::create_directories(dir);
  Dataset d;
  d.root = dir.parent_path().string();
  d.classes = {"A"};
  const auto add = [&](const std::string& name, const std::string& bytes) {
    const std::string path = (dir / name).string();
    write_bytes(path, bytes);
    d.samples.push_back({path, "A/" + name, 0, {}});
  };
  for (const char* name : {"good0.png", "good1.png"}) {
    write_png((dir / name).string(), make_chest_phantom({32, false, 0, 1}), 8);
    d.samples.push_back({(dir / name).string(), std::string("A/") + name, 0, {}});
  }
  add("huge.png", png_file(65536, 65536, 16, 2, std::string(1, '\0')));
  add("nested.dcm", nested_sequences_dicom(10000, RawDicom::kExplicitLE, false));
  add("slope_nan.dcm", dicom_with_0028(8, 8, {{0x1052, "0"}, {0x1053, "NaN"}}));
  RawDicom j2k(RawDicom::kJpeg2000);
  j2k.image_header(8, 8).encapsulated_pixels({"not a codestream"});
  add("j2k_garbage.dcm", j2k.bytes());
  const std::string rle = rle_frame(ramp(256));
  RawDicom short_rle(RawDicom::kRle);
  short_rle.image_header(16, 16).encapsulated_pixels({rle.substr(0, rle.size() - 140)});
  add("rle_short.dcm", short_rle.bytes());
  return d;
}

LoaderConfig small_config() {
  LoaderConfig c;
  c.batch_size = 1;
  c.transform.size = 16;
  c.drop_last = false;
  c.shuffle = false;
  c.workers = 2;
  return c;
}

TEST(HostileLoader, SkipModeNamesAndLeavesOutEveryHostileFile) {
  LoaderConfig c = small_config();
  c.skip_bad_files = true;
  ::testing::internal::CaptureStderr();
  Loader loader(hostile_dataset(), c);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(loader.skipped_files(), 5);
  EXPECT_EQ(loader.dataset().samples.size(), 2u);
  for (const char* name : {"huge.png", "nested.dcm", "slope_nan.dcm", "j2k_garbage.dcm", "rle_short.dcm"})
    EXPECT_NE(printed.find(name), std::string::npos) << name << " not named in:\n" << printed;
  // One line per skipped file, each from cxrtune: no library printed anything of its own.
  size_t lines = 0;
  for (size_t p = 0; p < printed.size(); p = printed.find('\n', p) + 1) {
    EXPECT_EQ(printed.compare(p, 18, "cxrtune: skipping "), 0) << printed.substr(p, printed.find('\n', p) - p);
    ++lines;
    if (printed.find('\n', p) == std::string::npos) break;
  }
  EXPECT_EQ(lines, 5u) << printed;
}

TEST(HostileLoader, FailModeStopsWithTheFileNamedFromAWorker) {
  for (const char* bad : {"nested.dcm", "j2k_garbage.dcm", "huge.png"}) {
    Dataset d = hostile_dataset();
    std::vector<Sample> kept;
    for (const Sample& s : d.samples)
      if (s.relative.rfind("A/good", 0) == 0 || s.relative == std::string("A/") + bad) kept.push_back(s);
    d.samples = kept;
    Loader loader(d, small_config());
    ::testing::internal::CaptureStderr();
    loader.start_epoch(0, 0);
    HostBatch b;
    try {
      while (loader.next(b)) {
      }
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
    loader.start_epoch(1, 1000);  // joins the workers before stderr is read back
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << bad;
  }
}

TEST(HostileLoader, ThePixelLimitReachesTheReaders) {
  LoaderConfig c = small_config();
  c.skip_bad_files = true;
  c.limits.max_image_pixels = 32 * 32 - 1;
  Dataset d = hostile_dataset();
  d.samples.resize(2);  // the two good 32 × 32 PNGs
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(Loader(d, c), UsageError);  // both left out: no usable images
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("data.max_image_pixels"), std::string::npos) << printed;
}

}  // namespace
}  // namespace cxr
