// `cxrtune demo-data OUT_DIR`: a synthetic chest X-ray set laid out for folder-per-class
// training, OUT_DIR/{train,val,test}/<class>/*.{dcm,png}, the classes equally large. Tasks:
//   pneumonia  NORMAL, PNEUMONIA (the demo's fine-tuning task)
//   findings   CARDIOMEGALY, NODULES, NORMAL (a different task, the demo's pretraining)
// Files rotate through DICOM DX/CR encodings (MONOCHROME1 and 2, 12/16-bit, uncompressed, RLE,
// JPEG lossless, JPEG-LS) and 8/16-bit PNG. Exactly `count` files: the remainder goes to the
// first classes (pneumonia: NORMAL gets the odd one), and each class splits 60/20/20 (rounded
// down for train and val). Deterministic for a seed and task.
// OUT_DIR must be missing or empty, so old and new files never mix; `force` instead replaces
// OUT_DIR/{train,val,test} (anything else in OUT_DIR is left alone).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cxr {

struct DemoDataSpec {
  std::string out_dir;
  int64_t count = 320;
  int64_t size = 256;
  uint64_t seed = 0;
  bool force = false;
  std::string task = "pneumonia";  // pneumonia | findings
};

// The class folders of a task, in the order written. UsageError for an unknown task.
std::vector<std::string> demo_task_classes(const std::string& task);

// `progress(done, total)` after each file. Returns the number of files written (`count`).
// UsageError for a bad task, count (below 6 per class) or size, or a non-empty OUT_DIR without `force`.
int64_t write_demo_data(const DemoDataSpec& spec, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace cxr
