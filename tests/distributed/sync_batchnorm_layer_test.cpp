// SyncBatchNorm at the layer (train.sync_bn, issue #20): one batchnorm2d per thread rank, each
// given half the rows and Context::batch_norm_group, against one unsynced layer given all rows.
// The synced halves must be the whole batch's: output rows, dx rows, dγ and dβ summed over the
// ranks (each rank's are its local sums, the reducer adds them), running statistics (unbiased
// variance of the global count) and num_batches_tracked; one allreduce in forward and one in
// backward; a checkpointing replay gives the same bits with no collective and no second
// running-statistics update. On the reference (double math, f32 tensors: 1e-6) and on oneDNN
// in its blocked layout with 12 channels (a padded channel block), with and without fused ReLU.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>

#include "engine/layer_registry.h"
#include "engine/ops/batchnorm2d.h"
#include "plugins/backends.h"
#include "tests/distributed/thread_communicator.h"

namespace cxr {
namespace {

constexpr int64_t kRows = 6, kChannels = 12, kSide = 3;

// Counts the allreduces it passes on (the layer's collectives).
class Counting final : public Communicator {
 public:
  explicit Counting(Communicator& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  std::string describe() const override { return "counting " + inner_.describe(); }
  void allreduce_sum(float* d, int64_t n) override { ++allreduces, inner_.allreduce_sum(d, n); }
  void allreduce_sum(double* d, int64_t n) override { ++allreduces, inner_.allreduce_sum(d, n); }
  void broadcast(void* d, int64_t b, int root) override { inner_.broadcast(d, b, root); }
  std::vector<std::string> allgather(const std::string& m) override { return inner_.allgather(m); }
  void barrier() override { inner_.barrier(); }
  int allreduces = 0;

 private:
  Communicator& inner_;
};

struct Outcome {
  std::vector<float> y, dx, dgamma, dbeta, running_mean, running_var;
  int64_t tracked = 0;
  int forward_allreduces = 0, backward_allreduces = 0;
  bool replay_same_bits = false, replay_left_state = false;
  int replay_allreduces = 0;
  bool plain = true;  // the activation layout
};

// rows [lo, hi) of the fixed data through one BN layer on `backend`; `group` null: unsynced.
Outcome run_layer(const std::string& backend_name, bool relu, int64_t lo, int64_t hi, Communicator* group) {
  LayerRegistry registry;
  register_all_layers(registry);
  std::unique_ptr<Backend> backend = make_backend(backend_name, 1);
  ops::BatchNorm2dParams p;
  p.channels = kChannels, p.fuse_relu = relu;
  std::unique_ptr<Layer> layer = registry.create(p, *backend);
  const int64_t per = kChannels * kSide * kSide, rows = hi - lo;
  // Fixed data: channel means far from 0 (cancellation in Σx² − M·mean²), γ and β not 1 and 0.
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(kRows * per)), dy(x.size()), gamma(kChannels), beta(kChannels);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 3.0f * static_cast<float>((i / (kSide * kSide)) % kChannels) + normal(rng);
  for (float& v : dy) v = normal(rng);
  for (float& v : gamma) v = 1.0f + 0.3f * normal(rng);
  for (float& v : beta) v = 0.2f * normal(rng);
  backend->write_plain(layer->parameters()[0].value, gamma.data());
  backend->write_plain(layer->parameters()[1].value, beta.data());

  const TensorDesc desc = backend->activation_desc({rows, kChannels, kSide, kSide});
  const TensorDesc descs[1] = {desc};
  PrepareInfo info;
  info.training = true;
  layer->prepare(descs, info);
  Tensor tx = backend->allocate(desc), ty = backend->allocate(desc), tdy = backend->allocate(desc),
         tdx = backend->allocate(desc);
  backend->write_plain(tx, x.data() + lo * per);
  backend->write_plain(tdy, dy.data() + lo * per);
  Counting* counting = dynamic_cast<Counting*>(group);
  Context ctx;
  ctx.batch_norm_group = group;
  const Tensor* in[1] = {&tx};
  Tensor* dx[1] = {&tdx};
  Outcome o;
  o.plain = desc.layout->is_plain();
  auto read = [&](const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    backend->read_plain(t, v.data());
    return v;
  };
  layer->forward(in, ty, ctx);
  o.forward_allreduces = counting ? counting->allreduces : 0;
  o.y = read(ty);
  o.running_mean = read(layer->buffers()[0].value);
  o.running_var = read(layer->buffers()[1].value);
  // A replay: the same bits, no collective, the running statistics left as they are.
  ctx.replaying = true;
  Tensor again = backend->allocate(desc);
  layer->forward(in, again, ctx);
  ctx.replaying = false;
  o.replay_allreduces = (counting ? counting->allreduces : 0) - o.forward_allreduces;
  o.replay_same_bits = read(again) == o.y;
  o.replay_left_state = read(layer->buffers()[0].value) == o.running_mean &&
                        read(layer->buffers()[1].value) == o.running_var;
  layer->backward(in, ty, tdy, dx, ctx);
  o.backward_allreduces = (counting ? counting->allreduces : 0) - o.forward_allreduces - o.replay_allreduces;
  o.dx = read(tdx);
  o.dgamma = read(layer->parameters()[0].grad);
  o.dbeta = read(layer->parameters()[1].grad);
  o.tracked = *layer->buffers()[2].value.data_as<const int64_t>();
  return o;
}

double worst(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 0, w = 0;
  for (float v : b) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i) w = std::max(w, std::fabs(static_cast<double>(a[i]) - b[i]));
  return w / std::max(scale, 1e-30);
}

void expect_halves_equal_whole(const std::string& backend, bool relu, double tol) {
  const Outcome whole = run_layer(backend, relu, 0, kRows, nullptr);
  std::vector<Outcome> half(2);
  test::run_on_ranks(2, [&](int r, Communicator& comm) {
    Counting counting(comm);
    half[static_cast<size_t>(r)] = run_layer(backend, relu, r * kRows / 2, (r + 1) * kRows / 2, &counting);
  });
  std::vector<float> y, dx, dgamma(kChannels, 0.0f), dbeta(kChannels, 0.0f);
  for (const Outcome& h : half) {
    y.insert(y.end(), h.y.begin(), h.y.end());
    dx.insert(dx.end(), h.dx.begin(), h.dx.end());
    for (int64_t c = 0; c < kChannels; ++c) dgamma[c] += h.dgamma[c], dbeta[c] += h.dbeta[c];
    EXPECT_EQ(h.forward_allreduces, 1);
    EXPECT_EQ(h.backward_allreduces, 1);
    EXPECT_EQ(h.replay_allreduces, 0);
    EXPECT_TRUE(h.replay_same_bits);
    EXPECT_TRUE(h.replay_left_state);
    EXPECT_EQ(h.tracked, 1);
    EXPECT_LE(worst(h.running_mean, whole.running_mean), tol);
    EXPECT_LE(worst(h.running_var, whole.running_var), tol);  // unbiased with the global count
  }
  EXPECT_LE(worst(y, whole.y), tol);
  EXPECT_LE(worst(dx, whole.dx), tol);
  EXPECT_LE(worst(dgamma, whole.dgamma), tol);
  EXPECT_LE(worst(dbeta, whole.dbeta), tol);
  EXPECT_TRUE(whole.replay_same_bits);
  // oneDNN runs in its channel-blocked layout (the sync loops' strided path), the reference plain.
  EXPECT_EQ(whole.plain, backend == "reference") << backend;
  // Not trivially equal: a half alone normalises differently.
  const Outcome alone = run_layer(backend, relu, 0, kRows / 2, nullptr);
  EXPECT_GT(worst(alone.y, half[0].y), 1e-2);
}

TEST(SyncBatchNormLayer, TwoSyncedHalvesEqualTheWholeBatchOnTheReference) {
  expect_halves_equal_whole("reference", false, 1e-6);
}

TEST(SyncBatchNormLayer, TwoSyncedHalvesEqualTheWholeBatchOnTheReferenceWithRelu) {
  expect_halves_equal_whole("reference", true, 1e-6);
}

TEST(SyncBatchNormLayer, TwoSyncedHalvesEqualTheWholeBatchOnOnednn) {
  expect_halves_equal_whole("cpu", false, 1e-5);
}

TEST(SyncBatchNormLayer, TwoSyncedHalvesEqualTheWholeBatchOnOnednnWithRelu) {
  expect_halves_equal_whole("cpu", true, 1e-5);
}

}  // namespace
}  // namespace cxr
