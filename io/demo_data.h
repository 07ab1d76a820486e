// `cxrtune demo-data OUT_DIR`: a synthetic chest X-ray set laid out for folder-per-class
// training, OUT_DIR/{train,val,test}/{NORMAL,PNEUMONIA}/*.{dcm,png}, half of each class. Files
// rotate through DICOM DX/CR encodings (MONOCHROME1 and 2, 12/16-bit, uncompressed, RLE, JPEG
// lossless, JPEG-LS) and 8/16-bit PNG. Splits 60/20/20 of `count`. Deterministic for a seed.
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
};

// `progress(done, total)` after each file.
void write_demo_data(const DemoDataSpec& spec, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace cxr
