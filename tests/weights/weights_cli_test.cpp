// `cxrtune weights` and `train` on the hostile .pth files a user found: every one exits 2 naming
// the file (they crashed with SIGSEGV, exited 0 with heap bytes in the output, or ended in
// "internal error: std::bad_alloc"), under a 2 GB address-space limit so that a reader that
// allocated what a file declares fails instead of taking the machine's memory. And `weights
// convert` without -o writes beside its input, never over an existing file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "io/weights/safetensors.h"
#include "tests/support/cli_run.h"
#include "tests/weights/pth_builder.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using fixture::f32_bytes;
using fixture::PthTensor;

constexpr int64_t k2p62 = int64_t{1} << 62;

using test::Result;
using test::slurp;

Result run(const std::string& args) {
  const fs::path log = fs::temp_directory_path() / ("cxr_wcli_" + std::to_string(getpid()) + ".log");
  Result r = test::run_cxrtune(args, log, "ulimit -v 2000000;");
  fs::remove(log);
  return r;
}

class WeightsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cxr_wcli_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, int64_t numel, int64_t offset, std::vector<int64_t> size,
                    std::vector<int64_t> stride, const std::string& storage) {
    PthTensor t;
    t.name = "fc.weight";
    t.storage_numel = numel;
    t.offset = offset;
    t.size = std::move(size);
    t.stride = std::move(stride);
    const std::string path = (dir_ / name).string();
    fixture::write_bytes(path, fixture::pth_zip({t}, {{"0", storage}}));
    return path;
  }
  fs::path dir_;
};

TEST_F(WeightsCli, HostileFilesExitTwoNamingTheFile) {
  const std::string four = f32_bytes({1, 2, 3, 4});
  const std::string files[] = {
      write("stride.pth", 4, 0, {3}, {k2p62 + (int64_t{1} << 40)}, four),               // SIGSEGV
      write("offset.pth", 4, std::numeric_limits<int64_t>::max(), {2}, {1}, four),      // read before the heap block
      write("heap.pth", 4, k2p62 + 4, {1023}, {k2p62 + 1}, four),                       // 4,092 heap bytes copied
      write("big34.pth", int64_t{1} << 34, 0, {int64_t{1} << 34}, {1}, four),           // std::bad_alloc, exit 3
      write("big30.pth", int64_t{1} << 30, 0, {int64_t{1} << 30}, {1}, four),           // 4.2 GB, then refused
      write("expand.pth", 1, 0, {1000000000}, {0}, f32_bytes({1}))};                    // 3.9 GB accepted
  for (const std::string& f : files) {
    const Result info = run("weights info " + f);
    EXPECT_EQ(info.code, 2) << f << ": " << info.output;
    EXPECT_NE(info.output.find("error: " + f + ": "), std::string::npos) << info.output;
    EXPECT_NE(info.output.find("fc.weight"), std::string::npos) << info.output;
    const std::string out = (dir_ / "out.safetensors").string();
    const Result convert = run("weights convert " + f + " -o " + out);
    EXPECT_EQ(convert.code, 2) << f << ": " << convert.output;
    EXPECT_FALSE(fs::exists(out)) << f << " was converted";
  }
}

TEST_F(WeightsCli, TrainRefusesAHostileWeightsFile) {
  const std::string data = (dir_ / "data").string();
  ASSERT_EQ(run("demo-data " + data + " --count 12 --size 32 --seed 1").code, 0);
  const std::string weights = write("stride.pth", 4, 0, {3}, {k2p62 + (int64_t{1} << 40)}, f32_bytes({1, 2, 3, 4}));
  const std::string recipe = (dir_ / "recipe.yaml").string();
  std::ofstream(recipe) << "model:\n  arch: resnet18\n  num_classes: 2\n  weights: " << weights
                        << "\ndata:\n  train: " << data << "/train\n  val: " << data
                        << "/val\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 2\n  backend: cpu\n"
                           "  threads: 1\n";
  const Result r = run("train " + recipe + " --out " + (dir_ / "run").string() + " --no-report");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(weights), std::string::npos) << r.output;
}

// model.max_tensor_mib reaches the reader `train` uses: a legal 2 MiB tensor passes the default
// limit (the run goes on to fail on the head's shape, after the read) and is refused, before it is
// allocated, under a 1 MiB limit, the message naming the recipe key.
TEST_F(WeightsCli, TrainHoldsWeightsToTheRecipesTensorLimit) {
  const std::string data = (dir_ / "data").string();
  ASSERT_EQ(run("demo-data " + data + " --count 12 --size 32 --seed 1").code, 0);
  const int64_t n = (int64_t{2} << 20) / 4;
  const std::string weights = write("big.pth", n, 0, {n}, {1}, std::string(static_cast<size_t>(n) * 4, '\0'));
  const std::string recipe = (dir_ / "recipe.yaml").string();
  const auto write_recipe = [&](const std::string& limit) {
    std::ofstream(recipe) << "model:\n  arch: resnet18\n  num_classes: 2\n  weights: " << weights << limit
                          << "\ndata:\n  train: " << data << "/train\n  val: " << data
                          << "/val\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 2\n  backend: cpu\n"
                             "  threads: 1\n";
  };
  write_recipe("");
  const Result fits = run("train " + recipe + " --out " + (dir_ / "run1").string() + " --no-report");
  EXPECT_EQ(fits.output.find("max_tensor_mib"), std::string::npos) << fits.output;
  write_recipe("\n  max_tensor_mib: 1");
  const Result refused = run("train " + recipe + " --out " + (dir_ / "run2").string() + " --no-report");
  EXPECT_EQ(refused.code, 2) << refused.output;
  EXPECT_NE(refused.output.find("max_tensor_mib"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("fc.weight"), std::string::npos) << refused.output;
}

// The README shows `weights convert FILE [-o OUT.safetensors]`: without -o the output goes
// beside the input as NAME.safetensors, and an existing file there is never overwritten.
TEST_F(WeightsCli, ConvertWithoutOutputWritesBesideTheInput) {
  const std::string in = write("model.pth", 4, 0, {2, 2}, {2, 1}, f32_bytes({1, 2, 3, 4}));
  const fs::path beside = dir_ / "model.safetensors";
  const Result first = run("weights convert " + in);
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find(beside.string()), std::string::npos) << first.output;
  const StateDict d = read_safetensors(beside.string());
  ASSERT_EQ(d.tensors.size(), 1u);
  EXPECT_EQ(d.tensors[0].to_f32(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d.metadata.at("source"), "model.pth");

  const std::string before = slurp(beside);
  const Result again = run("weights convert " + in);
  EXPECT_EQ(again.code, 2) << again.output;
  EXPECT_NE(again.output.find(beside.string()), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("-o"), std::string::npos) << again.output;
  EXPECT_EQ(slurp(beside), before);

  // A .safetensors input would be its own output: refused the same way, the file left alone.
  const std::string st_before = slurp(beside);
  EXPECT_EQ(run("weights convert " + beside.string()).code, 2);
  EXPECT_EQ(slurp(beside), st_before);
  // -o still overwrites what the user names.
  EXPECT_EQ(run("weights convert " + in + " -o " + beside.string()).code, 0);
}

}  // namespace
}  // namespace cxr
