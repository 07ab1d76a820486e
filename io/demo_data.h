// `cxrtune demo-data OUT_DIR`: a synthetic chest X-ray set laid out for folder-per-class
// training, OUT_DIR/{train,val,test}/{NORMAL,PNEUMONIA}/*.{dcm,png}, half of each class. Files
// rotate through DICOM DX/CR encodings (MONOCHROME1 and 2, 12/16-bit, uncompressed, RLE, JPEG
// lossless, JPEG-LS) and 8/16-bit PNG. Exactly `count` files: NORMAL gets the odd one, and each
// class splits 60/20/20 (rounded down for train and val). Deterministic for a seed.
// OUT_DIR must be missing or empty, so old and new files never mix; `force` instead replaces
// OUT_DIR/{train,val,test} (anything else in OUT_DIR is left alone).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace cxr {

struct DemoDataSpec {
  std::string out_dir;
  int64_t count = 320;
  int64_t size = 256;
  uint64_t seed = 0;
  bool force = false;
};

// `progress(done, total)` after each file. Returns the number of files written (`count`).
// UsageError for a bad count or size, or a non-empty OUT_DIR without `force`.
int64_t write_demo_data(const DemoDataSpec& spec, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace cxr
