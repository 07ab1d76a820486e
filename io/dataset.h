// Folder-per-class datasets in torchvision ImageFolder order: classes are the sorted subfolder
// names, samples sorted by class then path (recursively), files .dcm/.dicom/.png. Class counts
// and inverse-frequency class weights; a seeded, stratified split of a dataset into two.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr {

struct Sample {
  std::string path;      // as found under the root
  std::string relative;  // path relative to the root (for predictions: nothing identifying)
  int64_t label = 0;
  std::vector<float> targets;  // multi-label: one 0/1 per label (empty for single-label)
};

struct Dataset {
  std::string root;
  std::vector<std::string> classes;
  std::vector<Sample> samples;
  bool multi_label = false;  // classes are labels; samples carry `targets`

  std::vector<int64_t> class_counts() const;
  // N / (K · count_k), PyTorch's usual "balanced" weights; classes without samples get 0.
  std::vector<double> class_weights() const;
  std::string summary() const;  // "NORMAL 120, PNEUMONIA 120"
};

// UsageError naming the root when it has no class folders or a class has no images.
Dataset scan_folder_dataset(const std::string& root);

// Seeded split keeping each class's proportion: `fraction` of every class goes to .second.
std::pair<Dataset, Dataset> split_dataset(const Dataset& all, double fraction, uint64_t seed);

}  // namespace cxr
