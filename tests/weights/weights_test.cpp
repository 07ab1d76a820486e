// Weights in and out against files Debian's torch writes (tests/weights/make_weights.py):
// every way of saving a state_dict reads back exactly; logits of the loaded network match
// torch's; hostile and broken files are refused with a UsageError and no crash; checkpoints
// round-trip and refuse a wrong architecture or format.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "engine/resnet.h"
#include "io/weights/apply.h"
#include "io/weights/checkpoint.h"
#include "io/weights/safetensors.h"
#include "io/weights/sha256.h"
#include "io/weights/unpickler.h"
#include "io/weights/weights_file.h"
#include "plugins/backends.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

std::vector<float> floats(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

// max |a − b| / max |b|
double max_relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, static_cast<double>(std::abs(got[i] - want[i])));
    den = std::max(den, static_cast<double>(std::abs(want[i])));
  }
  return num / den;
}

class Weights : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("cxr_weights_" + std::to_string(getpid()));
    const std::string cmd = std::string(CXRTUNE_PYTHON) + " " + CXRTUNE_SOURCE_DIR +
                            "/tests/weights/make_weights.py " + dir_.string() + " 2>/dev/null";
    have_torch_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    if (!have_torch_) GTEST_SKIP() << CXRTUNE_PYTHON << " cannot import torch/torchvision to write the fixtures";
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // Every tensor of `dict` equals torch's values (exactly, or to f16 rounding).
  void expect_matches_torch(const StateDict& dict, double tolerance) {
    const auto index = nlohmann::json::parse(std::ifstream(dir_ / "expected.json"));
    const auto expected = floats(dir_ / "expected.bin");
    ASSERT_EQ(dict.tensors.size(), index.size());
    for (const auto& item : index) {
      const NamedTensor* t = dict.find(item["name"]);
      ASSERT_NE(t, nullptr) << item["name"];
      ASSERT_EQ(t->shape, item["shape"].get<Shape>()) << item["name"];
      const auto got = t->to_f32();
      const float* want = expected.data() + item["offset"].get<size_t>() / 4;
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], tolerance * std::max(1.0f, std::abs(want[i]))) << item["name"] << "[" << i << "]";
    }
  }

  static inline fs::path dir_;
  static inline bool have_torch_ = false;
};

TEST_F(Weights, EveryWayOfSavingReadsBackExactly) {
  for (const char* name : {"plain.pth", "wrapped.pth", "module.pth", "model.safetensors"}) {
    SCOPED_TRACE(name);
    expect_matches_torch(read_weights(file(name)), 0.0);
  }
  const StateDict half = read_weights(file("half.pth"));
  EXPECT_EQ(half.find("conv1.weight")->dtype, DType::F16);
  EXPECT_EQ(half.find("bn1.num_batches_tracked")->dtype, DType::I64);
  expect_matches_torch(half, 1e-3);
}

TEST_F(Weights, ViewsSharingOneStorage) {
  const StateDict d = read_weights(file("views.pth"));
  auto at = [&](const char* n) { return d.find(n)->to_f32(); };
  const auto base = at("base"), t = at("t"), rows = at("rows"), cols = at("cols");
  ASSERT_EQ(d.find("t")->shape, (Shape{6, 4}));
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(t[static_cast<size_t>(i * 4 + j)], base[static_cast<size_t>(j * 6 + i)]);
  EXPECT_EQ(rows[0], 6.0f);
  EXPECT_EQ(d.find("cols")->shape, (Shape{4, 3}));
  EXPECT_EQ(cols[3], 8.0f);  // row 1, column 2
}

TEST_F(Weights, LoadedNetworkGivesTorchsLogits) {
  LayerRegistry registry;
  register_all_layers(registry);
  for (const std::string backend_name : {"cpu", "reference"}) {
    auto backend = make_backend(backend_name, 2);
    Network net(build_resnet({"resnet18", 4, 3}), registry, *backend);
    const LoadReport report = apply_state_dict(net, read_weights(file("plain.pth")), {true, "plain.pth"});
    EXPECT_EQ(report.loaded, 122);
    EXPECT_FALSE(report.head_replaced);
    net.prepare({2, 3, 64, 64}, false);
    const auto input = floats(dir_ / "input.bin"), want = floats(dir_ / "logits.bin");
    backend->write_plain(net.input(), input.data());
    Context ctx;
    ctx.training = false;
    std::vector<float> got(want.size());
    backend->read_plain(net.forward(ctx), got.data());
    const double err = max_relative_error(got, want);
    EXPECT_LT(err, 1e-4) << backend_name;
    std::printf("[%s] eval logits relative error %.2e\n", backend_name.c_str(), err);
  }
}

TEST_F(Weights, Resnet50PthLoadsFastAndGivesTorchsLogits) {
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("cpu", 2);
  Network net(build_resnet({"resnet50", 3, 3}), registry, *backend);
  const auto t0 = std::chrono::steady_clock::now();
  const StateDict d = read_weights(file("resnet50.pth"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("ResNet-50 .pth (%zu tensors) read in %.3f s\n", d.tensors.size(), seconds);
  EXPECT_LT(seconds, 2.0);  // well under a second on an idle machine; generous under ctest -j
  apply_state_dict(net, d, {true, "resnet50.pth"});
  net.prepare({2, 3, 64, 64}, false);
  const auto input = floats(dir_ / "input.bin"), want = floats(dir_ / "logits50.bin");
  backend->write_plain(net.input(), input.data());
  Context ctx;
  ctx.training = false;
  std::vector<float> got(want.size());
  backend->read_plain(net.forward(ctx), got.data());
  const double err = max_relative_error(got, want);
  EXPECT_LT(err, 1e-4);
  std::printf("[resnet50] eval logits relative error %.2e\n", err);
}

TEST_F(Weights, HeadReplacedAndGreyscaleFolded) {
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("reference", 1);
  Network net(build_resnet({"resnet18", 2, 1}), registry, *backend);
  const StateDict d = read_weights(file("plain.pth"));
  const LoadReport r = apply_state_dict(net, d, {true, "plain.pth"});
  EXPECT_TRUE(r.head_replaced);
  EXPECT_TRUE(r.conv1_folded);
  std::vector<float> w(64 * 49);
  backend->read_plain(*net.state()[0].value, w.data());
  const auto rgb = d.find("conv1.weight")->to_f32();
  EXPECT_NEAR(w[5], rgb[5] + rgb[49 + 5] + rgb[98 + 5], 1e-6);
}

TEST_F(Weights, MismatchesAreReportedAllAtOnce) {
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("reference", 1);
  Network net(build_resnet({"resnet34", 4, 3}), registry, *backend);
  try {
    apply_state_dict(net, read_weights(file("plain.pth")), {true, "plain.pth"});
    FAIL() << "resnet18 weights must not fit resnet34";
  } catch (const UsageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing keys"), std::string::npos) << msg;
    EXPECT_NE(msg.find("layer1.2.conv1.weight"), std::string::npos) << msg;  // resnet18 has two blocks per stage
  }
}

TEST_F(Weights, HostileAndBrokenFilesAreRefused) {
  const std::pair<const char*, const char*> cases[] = {
      {"evil.pth", "posix.system"},        {"truncated.pth", "truncated.pth"},
      {"garbage.pth", "garbage.pth"},      {"legacy.pth", "legacy"},
      {"overlap.safetensors", "overlap"},  {"outside.safetensors", "outside the data area"},
      {"overflow.safetensors", "overflow"}, {"longheader.safetensors", "exceeds the file"}};
  for (const auto& [name, needle] : cases) {
    try {
      read_weights(file(name));
      ADD_FAILURE() << name << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << name << ": " << e.what();
    }
  }
  EXPECT_FALSE(fs::exists("/tmp/pwn"));
}

TEST_F(Weights, CheckpointRoundTripAndRefusals) {
  Checkpoint c;
  c.model = read_weights(file("plain.pth"));
  c.optimizer.add(NamedTensor::from_f32("fc.weight.exp_avg", {2}, std::vector<float>{1, 2}.data()));
  c.metadata = {{"arch", "resnet18"}, {"step", "12"}};
  const std::string path = file("ckpt.safetensors");
  save_checkpoint(path, c);
  const Checkpoint back = load_checkpoint(path, "resnet18");
  EXPECT_EQ(back.metadata.at("step"), "12");
  EXPECT_EQ(back.optimizer.find("fc.weight.exp_avg")->to_f32()[1], 2.0f);
  expect_matches_torch(back.model, 0.0);
  EXPECT_THROW(load_checkpoint(path, "resnet50"), UsageError);
  EXPECT_THROW(load_checkpoint(file("model.safetensors"), ""), UsageError);  // not a checkpoint
}

// Pickles that build reference cycles through the memo would leak (shared_ptr cycles) and could
// send a walker round forever; nesting deeper than any checkpoint could overflow the stack when
// freed. Both are refused; sharing without a cycle is kept.
using namespace std::string_literals;

std::string pickled(const std::string& body) { return "\x80\x02"s + body + "."; }

std::string refusal(const std::string& data) {
  try {
    pickle::load(data, "mem.pkl");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Unpickler, ReferenceCyclesAreRefused) {
  const std::pair<const char*, std::string> cycles[] = {
      {"list appended to itself", pickled("]q\0h\0a"s)},
      {"two lists holding each other", pickled("]q\0]q\1h\0a0h\1a"s)},
      {"dict holding itself", pickled("}q\0K\1h\0s"s)},
      {"list holding a tuple that holds it", pickled("]q\0h\0\x85" "a"s)},
      {"cycle in a value the file throws away", pickled("]q\0h\0a0N"s)}};
  for (const auto& [what, data] : cycles)
    EXPECT_NE(refusal(data).find("reference cycle"), std::string::npos) << what << ": " << refusal(data);
}

TEST(Unpickler, SharingWithoutACycleIsKept) {
  const pickle::Ref t = pickle::load(pickled("]q\0K\7ah\0h\0\x86"s), "mem.pkl");
  ASSERT_EQ(t->kind, pickle::Value::Kind::Tuple);
  ASSERT_EQ(t->items.size(), 2u);
  EXPECT_EQ(t->items[0], t->items[1]);  // one list, referenced twice
  ASSERT_EQ(t->items[0]->items.size(), 1u);
  EXPECT_EQ(t->items[0]->items[0]->i, 7);
}

TEST(Unpickler, NestingIsBoundedAndHostileChainsAreFreedWithoutRecursion) {
  EXPECT_EQ(refusal(pickled(")" + std::string(900, '\x85'))), "accepted");
  EXPECT_NE(refusal(pickled(")" + std::string(1200, '\x85'))).find("nested deeper than 1000"), std::string::npos);
  // A million lists, each appended into the one before: freed one by one, or this overflows the stack.
  const size_t n = 1000000;
  EXPECT_NE(refusal(pickled(std::string(n, ']') + std::string(n - 1, 'a'))).find("nested deeper"), std::string::npos);
  // The same chain cut short by a truncated file is freed the same way.
  EXPECT_NE(refusal("\x80\x02"s + std::string(n, ']') + std::string(n - 1, 'a')).find("truncated"),
            std::string::npos);
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Safetensors, RoundTripInMemory) {
  StateDict d;
  d.add(NamedTensor::from_f32("z", {2, 2}, std::vector<float>{1, 2, 3, 4}.data()));
  d.add(NamedTensor::from_f32("a", {1}, std::vector<float>{5}.data()));
  d.metadata["k"] = "v";
  const StateDict back = parse_safetensors(serialize_safetensors(d), "mem");
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.tensors[0].name, "z");  // file order kept
  EXPECT_EQ(back.tensors[1].to_f32()[0], 5.0f);
  EXPECT_EQ(back.metadata.at("k"), "v");
}

}  // namespace
}  // namespace cxr
