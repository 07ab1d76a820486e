// Folder-per-class datasets in torchvision ImageFolder order: classes are the sorted subfolder
// names, samples sorted by class then path (recursively), every file whose content is a DICOM,
// PNG or JPEG image whatever its name (io/image_sniff.h; Kermany's chest_xray/{train,val,test}/
// {NORMAL,PNEUMONIA} JPEGs as distributed, PACS exports named by UID); what it passes over is
// said in one line on stderr. Class counts
// and inverse-frequency class weights; a seeded, stratified split of a dataset into two.
// Multi-label targets may be masked: an ignored label (an uncertain CheXpert/MIMIC finding under
// data.uncertain: ignore) is stored as kIgnoredTarget in `targets`, and the BCE loss skips every
// target < 0 (plugins/reference/kernels.h), so the loader and HostBatch carry the mask for free.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

// An ignored (masked) multi-label target: adds nothing to the loss, nor to that label's metrics.
// A negative number rather than NaN: it survives f16/bf16 conversion and fast-math GPU code,
// and `t < 0` is the whole test.
constexpr float kIgnoredTarget = -1.0f;
inline bool is_ignored_target(float t) { return t < 0.0f; }

// Per-sample subgroup attributes a layout read from its label CSV (io/layout_*.cpp): the
// standard `sex` (M, F, O), `age` (its 20-year band, engine/subgroups.h age_band) and `view`
// (PA, AP, LATERAL, ...), then the layout's own non-identifying columns by header name, raw.
// Dataset::attribute_names names the slots. Each value is an index into one process-wide table
// of interned strings (0: not recorded, "unknown"), so that the attributes of a sample copy as
// 16 bytes whatever their text: 377k MIMIC samples carry them for 6 MB.
constexpr size_t kMaxSampleAttributes = 8;
using SampleAttributes = std::array<uint16_t, kMaxSampleAttributes>;
// The index of `value` (0 for ""); UsageError past 65,535 distinct values in one process.
uint16_t intern_attribute(const std::string& value);
// The text of an index from intern_attribute ("" for 0).
const std::string& attribute_text(uint16_t index);

struct Sample {
  std::string path;      // as found under the root
  std::string relative;  // path relative to the root (for predictions: nothing identifying)
  int64_t label = 0;
  std::vector<float> targets;  // multi-label: one 0/1 (or kIgnoredTarget) per label (empty for single-label)
  std::string patient_key{};   // salted hash of the patient id (io/patient_groups.h), never the id; may be empty
  SampleAttributes attributes{};  // slots named by Dataset::attribute_names; all 0 when none are recorded
};

struct Dataset {
  std::string root;
  std::vector<std::string> classes;
  std::vector<Sample> samples;
  bool multi_label = false;  // classes are labels; samples carry `targets`
  // What Sample::attributes hold, slot by slot ("sex", "age", "view", then the layout's own
  // columns such as "Patient Gender"); empty for folder and manifest sets.
  std::vector<std::string> attribute_names{};
  std::string layout{};  // nih, chexpert, mimic-cxr-jpg, rsna-pneumonia; empty for folder and manifest sets

  std::vector<int64_t> class_counts() const;
  // N / (K · count_k), PyTorch's usual "balanced" weights; classes without samples get 0.
  std::vector<double> class_weights() const;
  // Multi-label `loss.class_weights: auto`: BCE pos_weight = negatives / positives per label,
  // counting only unmasked targets (a kIgnoredTarget is neither); 1 for a label without positives.
  std::vector<double> bce_pos_weights() const;
  std::string summary() const;  // "NORMAL 120, PNEUMONIA 120"
};

// UsageError naming the root when it has no class folders or a class has no images.
Dataset scan_folder_dataset(const std::string& root);

// Seeded split keeping each class's proportion: `fraction` of every class goes to .second.
std::pair<Dataset, Dataset> split_dataset(const Dataset& all, double fraction, uint64_t seed);

}  // namespace cxr
