// What the GPU must do the same way every time: the batched sum of squares gives exactly the bits
// of its host emulation (kernel_math.h's fixed order) for every tensor, however many are batched;
// two backends choose the same convolution algorithms and give bit-identical gradients; and
// CXRTUNE_CUDA_SYNC (read at construction) is announced and leaves results unchanged. Skipped
// without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "engine/network.h"
#include "engine/resnet.h"
#include "plugins/backends.h"
#include "plugins/cudnn/cudnn_backend.h"
#include "plugins/cudnn/kernel_math.h"

namespace cxr {
namespace {

std::vector<float> random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(CudnnDeterminism, BatchedSumOfSquaresHasTheHostEmulationsBits) {
  std::string why;
  if (!backend_usable("cudnn", &why)) GTEST_SKIP() << why;
  CudnnBackend gpu(0, DType::F32);
  std::vector<std::vector<float>> host;
  std::vector<Tensor> tensors;
  std::vector<const Tensor*> ptrs;
  int seed = 1;
  for (int64_t n : {int64_t{1}, int64_t{300}, int64_t{65536}, int64_t{2359296}, int64_t{7}, int64_t{1000003}}) {
    host.push_back(random(n, static_cast<uint32_t>(seed++)));
    tensors.push_back(gpu.allocate(plain_desc({n})));
    gpu.write_plain(tensors.back(), host.back().data());
  }
  for (const Tensor& t : tensors) ptrs.push_back(&t);
  const std::vector<double> all = gpu.sum_squares_many(ptrs);
  ASSERT_EQ(all.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const double want = gpu::sum_squares_fixed_order(host[i].data(), static_cast<int64_t>(host[i].size()));
    EXPECT_EQ(all[i], want) << "tensor " << i << ": the device folds in another order";
    EXPECT_EQ(gpu.sum_squares(tensors[i]), want) << "tensor " << i << " alone";
  }
}

// Two backends, two networks, the same weights and batch: every gradient bit equal (deterministic
// algorithms, fixed-order reductions), in every dtype.
TEST(CudnnDeterminism, TwoRunsGiveBitIdenticalGradients) {
  std::string why;
  if (!backend_usable("cudnn", &why)) GTEST_SKIP() << why;
  LayerRegistry registry;
  register_all_layers(registry);
  ResNetConfig rc;
  rc.arch = "resnet18";
  rc.num_classes = 3;
  const std::vector<float> input = random(2 * 3 * 32 * 32, 5);
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    std::vector<std::vector<float>> grads[2];
    for (int run = 0; run < 2; ++run) {
      CudnnBackend gpu(0, dt);
      Network net(build_resnet(rc), registry, gpu);
      uint32_t seed = 100;
      for (Parameter* p : net.parameters()) {
        auto v = random(p->value.numel(), seed++);
        for (float& x : v) x *= 0.05f;  // small weights: finite activations in f16 too
        gpu.write_plain(p->value, v.data());
      }
      net.prepare({2, 3, 32, 32}, true);
      gpu.write_plain(net.input(), input.data());
      Context ctx;
      const Tensor& logits = net.forward(ctx);
      Tensor dy = gpu.allocate(logits.desc());
      const std::vector<float> ones(static_cast<size_t>(logits.numel()), 0.25f);
      gpu.write_plain(dy, ones.data());
      net.backward(dy, ctx);
      for (Parameter* p : net.parameters()) {
        std::vector<float> g(static_cast<size_t>(p->grad.numel()));
        gpu.read_plain(p->grad, g.data());
        grads[run].push_back(std::move(g));
      }
    }
    ASSERT_EQ(grads[0].size(), grads[1].size());
    for (size_t k = 0; k < grads[0].size(); ++k) EXPECT_EQ(grads[0][k], grads[1][k]) << to_string(dt) << " parameter " << k;
  }
}

TEST(CudnnDeterminism, SyncModeIsAnnouncedAndChangesNoResult) {
  std::string why;
  if (!backend_usable("cudnn", &why)) GTEST_SKIP() << why;
  const std::vector<float> v = random(4096, 3);
  double sums[2];
  for (int sync = 0; sync < 2; ++sync) {
    if (sync) setenv("CXRTUNE_CUDA_SYNC", "1", 1);
    else unsetenv("CXRTUNE_CUDA_SYNC");
    CudnnBackend gpu(0, DType::F32);
    EXPECT_EQ(gpu.sync_each_layer(), sync == 1);
    EXPECT_EQ(gpu.describe().find("CXRTUNE_CUDA_SYNC") != std::string::npos, sync == 1) << gpu.describe();
    Tensor t = gpu.allocate(plain_desc({4096}));
    gpu.write_plain(t, v.data());
    sums[sync] = gpu.sum_squares(t);
  }
  unsetenv("CXRTUNE_CUDA_SYNC");
  EXPECT_EQ(sums[0], sums[1]);
}

}  // namespace
}  // namespace cxr
