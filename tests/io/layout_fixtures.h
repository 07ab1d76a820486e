// Small fixtures in the official layouts of NIH ChestX-ray14, CheXpert, MIMIC-CXR-JPG and RSNA
// Pneumonia (a few rows each, tiny PNG images under the names the layouts use), for
// dataset_layouts_test.cpp and dataset_command_test.cpp.
#pragma once
#include <filesystem>
#include <string>

namespace cxr::test {

// A fresh, empty folder under the temp dir, removed by the destructor.
struct TempDir {
  explicit TempDir(const std::string& tag);
  ~TempDir();
  std::filesystem::path path;
};

void write_text(const std::filesystem::path& file, const std::string& text);
void write_gzip(const std::filesystem::path& file, const std::string& text);
void write_tiny_png(const std::filesystem::path& file);

// Each writes its layout under `root` and returns the label file data.train names.
std::string write_nih(const std::filesystem::path& root, bool official_lists = true, bool one_missing = false);
std::string write_chexpert(const std::filesystem::path& root);
std::string write_mimic(const std::filesystem::path& root);
std::string write_rsna(const std::filesystem::path& root);

}  // namespace cxr::test
