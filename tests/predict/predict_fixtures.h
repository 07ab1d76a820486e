// Shared by the predict tests: test images, checkpoints like `cxrtune train` writes, the CLI.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cxr::test {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& tag);  // an empty folder under the system temp folder

// An 8-bit grey PNG of size × size: smooth random blobs, different per seed.
void write_test_png(const fs::path& path, int64_t size, uint64_t seed);

struct CheckpointSpec {
  std::string arch = "resnet18";
  std::vector<std::string> classes{"NORMAL", "PNEUMONIA"};
  std::string loss = "cross_entropy";  // or bce
  int64_t image_size = 64;
  int64_t batch = 4;
  uint64_t seed = 1;
  std::map<std::string, std::string> extra_metadata;  // temperature, thresholds
};
// torchvision init, BN affine and running statistics spread as trained networks have them.
void write_test_checkpoint(const fs::path& path, const CheckpointSpec& spec);

struct CliResult {
  int code = -1;
  std::string output;  // stdout and stderr
};
CliResult run_cxrtune(const std::string& args);

// A CSV file's records (header first).
std::vector<std::vector<std::string>> read_csv_file(const fs::path& path);

// The values of a float32 .npy file written by io/npy_writer.h, and its shape.
std::vector<float> read_npy_f32(const fs::path& path, std::vector<int64_t>* shape = nullptr);

// Whether /usr/bin/python3 (CXRTUNE_PYTHON) imports torch, torchvision, numpy and PIL.
bool have_torch();

}  // namespace cxr::test
