// Hostile and mistaken .safetensors files: the same guarantees as the .pth reader (tensor limit,
// no NaN or infinity, every escaping exception a UsageError naming the file), and a plain
// "not a safetensors file" for anything else given where one is expected. Also runs in
// weights_sanitized_tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "core/errors.h"
#include "io/input_limits.h"
#include "io/weights/safetensors.h"
#include "io/weights/weights_file.h"
#include "tests/weights/allocation_cap.h"
#include "tests/weights/pth_builder.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using fixture::AllocationCap;

NamedTensor raw(DType dtype, Shape shape, const std::string& bytes) {
  return NamedTensor{std::string("w"), dtype, std::move(shape), std::vector<uint8_t>(bytes.begin(), bytes.end())};
}

class HostileSafetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cxr_hostile_st_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    fixture::write_bytes(path, bytes);
    return path;
  }
  std::string write(const std::string& name, const NamedTensor& t) {
    StateDict d;
    d.add(t);
    return write(name, serialize_safetensors(d));
  }

  fs::path dir_;
};

std::string refusal(const std::string& path, const InputLimits& limits = {}) {
  try {
    read_weights(path, limits);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "accepted";
}

// A recipe given as model.weights used to read "header length 2308721996212760429 exceeds the
// file (240 bytes)": true, and no help to someone who passed the wrong file.
TEST_F(HostileSafetensors, AnythingElseIsPlainlyNotASafetensorsFile) {
  const std::string yaml = write("recipe.yaml",
                                 "model:\n  arch: resnet18\n  num_classes: 2\n  weights: null\ndata:\n  train: data/train\n"
                                 "  val: data/val\n  image_size: 224\ntrain:\n  epochs: 5\n  batch_size: 32\n");
  const std::string why = refusal(yaml);
  EXPECT_EQ(why.rfind(yaml + ": not a safetensors file (", 0), 0u) << why;
  EXPECT_NE(why.find("exceeds the file"), std::string::npos) << why;  // the precise reason stays
  // A length that fits, over bytes that are not JSON.
  const std::string text = write("notes.txt", std::string("\x04\0\0\0\0\0\0\0abcd", 12));
  EXPECT_EQ(refusal(text).rfind(text + ": not a safetensors file (", 0), 0u) << refusal(text);
  const std::string array = write("array.st", std::string("\x02\0\0\0\0\0\0\0[]", 10));
  EXPECT_EQ(refusal(array).rfind(array + ": not a safetensors file (", 0), 0u) << refusal(array);
}

TEST_F(HostileSafetensors, NonFiniteValuesAreRefusedNamingTheTensor) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const NamedTensor cases[] = {raw(DType::F32, {2}, fixture::f32_bytes({1, nan})),
                               raw(DType::F32, {2}, fixture::f32_bytes({-inf, 1})),
                               raw(DType::F16, {2}, fixture::u16_bytes({0x7c01, 0x3c00})),   // NaN
                               raw(DType::F16, {1}, fixture::u16_bytes({0x7c00})),           // inf
                               raw(DType::BF16, {2}, fixture::u16_bytes({0x3f80, 0xffc1})),  // NaN
                               raw(DType::BF16, {1}, fixture::u16_bytes({0xff80}))};         // −inf
  for (const NamedTensor& t : cases) {
    const std::string path = write("nan.safetensors", t);
    const std::string why = refusal(path);
    EXPECT_NE(why.find(path), std::string::npos) << why;
    EXPECT_NE(why.find("tensor 'w'"), std::string::npos) << why;
    EXPECT_TRUE(why.find("NaN") != std::string::npos || why.find("infinite") != std::string::npos) << why;
  }
  EXPECT_EQ(refusal(write("ok.safetensors", raw(DType::I64, {1}, std::string(8, '\xff')))), "accepted");
}

TEST_F(HostileSafetensors, TensorLimitIsTheCallersToSet) {
  const std::string path = write("k.safetensors", raw(DType::F32, {512}, fixture::f32_bytes(std::vector<float>(512, 1))));
  InputLimits limits;
  limits.max_tensor_bytes = 2048;
  EXPECT_EQ(read_safetensors(path, limits).tensors.size(), 1u);
  limits.max_tensor_bytes = 2047;
  const std::string why = refusal(path, limits);
  EXPECT_NE(why.find(path), std::string::npos) << why;
  EXPECT_NE(why.find("tensor 'w'"), std::string::npos) << why;
  EXPECT_NE(why.find("model.max_tensor_mib"), std::string::npos) << why;
}

TEST_F(HostileSafetensors, EscapingExceptionsNameTheFile) {
  const std::string path =
      write("big.safetensors", raw(DType::F32, {16384}, fixture::f32_bytes(std::vector<float>(16384, 1))));
  const AllocationCap cap(32 << 10);  // above the stream's buffer, below the file's 64 KiB
  const std::string why = refusal(path);
  EXPECT_NE(why.find(path), std::string::npos) << why;
  EXPECT_NE(why.find("memory"), std::string::npos) << why;
  EXPECT_GT(cap.refused(), 0);
}

}  // namespace
}  // namespace cxr
