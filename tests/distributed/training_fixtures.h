// What the data-parallel tests share (data_parallel_test.cpp, sync_batchnorm_test.cpp): fixed
// random batches sharded as the Loader shards them, a ResNet-18 (32 px) with Adam prepared for a
// micro-batch, a run of the real Trainer, and a relative comparison of weight vectors.
#pragma once
#include <atomic>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/init.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "engine/optimizer.h"
#include "engine/resnet.h"
#include "engine/trainer.h"
#include "plugins/backends.h"

namespace cxr::test {

constexpr int64_t kSize = 32, kBatch = 8;

// Fixed random global batches; rank r of `ranks` sees rows [r·n/ranks, (r+1)·n/ranks) of each,
// as the Loader gives them.
class Batches : public BatchSource {
 public:
  Batches(int count, int64_t n, uint32_t seed, int64_t last = 0) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    for (int b = 0; b < count; ++b) {
      const int64_t m = b + 1 == count && last > 0 ? last : n;
      std::vector<float> images(static_cast<size_t>(m * 3 * kSize * kSize)), labels(static_cast<size_t>(m));
      for (float& v : images) v = normal(rng);
      std::vector<std::string> ids;
      for (int64_t i = 0; i < m; ++i) {
        labels[static_cast<size_t>(i)] = static_cast<float>(rng() % 2);
        ids.push_back("b" + std::to_string(b) + "/" + std::to_string(i));
      }
      images_.push_back(std::move(images)), labels_.push_back(std::move(labels)), ids_.push_back(std::move(ids));
    }
  }
  Batches shard(int rank, int ranks) const {
    Batches out = *this;
    for (size_t b = 0; b < images_.size(); ++b) {
      const auto n = static_cast<int64_t>(labels_[b].size());
      const int64_t lo = rank * n / ranks, hi = (rank + 1) * n / ranks, per = 3 * kSize * kSize;
      out.images_[b].assign(images_[b].begin() + lo * per, images_[b].begin() + hi * per);
      out.labels_[b].assign(labels_[b].begin() + lo, labels_[b].begin() + hi);
      out.ids_[b].assign(ids_[b].begin() + lo, ids_[b].begin() + hi);
    }
    return out;
  }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(images_.size()); }
  void start_epoch(int64_t, int64_t skip) override { next_ = static_cast<size_t>(skip); }
  bool next(HostBatch& b) override {
    if (next_ >= images_.size()) return false;
    b.images = images_[next_].data();
    b.targets = labels_[next_].data();
    b.n = static_cast<int64_t>(labels_[next_].size());
    b.ids = ids_[next_];
    ++next_;
    return true;
  }

 private:
  size_t next_ = 0;
  std::vector<std::vector<float>> images_, labels_;
  std::vector<std::vector<std::string>> ids_;
};

struct Sink : RunSink {
  std::vector<StepRecord> steps;
  std::vector<EpochRecord> epochs;
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  void on_epoch(const EpochRecord& r) override { epochs.push_back(r); }
  void save_checkpoint(const std::string&, const TrainPosition&) override {}
};

// ResNet-18 prepared for training on `micro` samples, with Adam; the same weights for a seed.
struct Model {
  LayerRegistry registry;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Network> net;
  std::unique_ptr<TrainStep> step;
  std::unique_ptr<Optimizer> optimizer;
  // `adam_eps`: Adam's ε; the default is torch's.
  explicit Model(int64_t micro, const std::string& backend_name = "cpu",
                 const std::vector<std::string>& checkpointed = {}, double adam_eps = 1e-8)
      : backend(make_backend(backend_name, 1)) {
    register_all_layers(registry);
    ResNetConfig rc;
    rc.arch = "resnet18", rc.num_classes = 2, rc.in_channels = 3;
    net = std::make_unique<Network>(build_resnet(rc), registry, *backend);
    init_torchvision(*net, 7);
    step = std::make_unique<TrainStep>(*net, registry, ops::SoftmaxCrossEntropyParams{});
    OptimizerConfig oc;
    oc.name = "adam", oc.lr = 1e-3, oc.eps = adam_eps;
    optimizer = std::make_unique<Optimizer>(oc, ScheduleConfig{}, net->parameters(), *backend, net->graph().stages);
    if (!checkpointed.empty()) net->set_checkpointed_stages(checkpointed);
    step->prepare({micro, 3, kSize, kSize}, {micro}, true);
  }
  std::vector<float> tensor(const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    backend->read_plain(t, v.data());
    return v;
  }
  std::vector<float> all(bool gradients) {
    std::vector<float> out;
    for (Parameter* p : net->parameters())
      if (p->trainable) {
        const auto v = tensor(gradients ? p->grad : p->value);
        out.insert(out.end(), v.begin(), v.end());
      }
    return out;
  }
};

inline double max_relative(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0, scale = 0;
  for (float v : b) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]) / std::max(std::fabs(static_cast<double>(b[i])), 1e-3 * scale));
  return worst;
}

struct RunResult {
  std::vector<StepRecord> steps;
  std::vector<float> weights;
  std::vector<float> state;  // parameters and buffers, f32
  std::vector<int64_t> counters;  // num_batches_tracked of every BN
  std::vector<float> running_mean, running_var;  // every BN's, in the same order
};

inline RunResult train(Model& m, BatchSource& data, int64_t accumulate, Communicator* comm, bool sync_bn = false) {
  TrainConfig tc;
  tc.sync_batch_norm = sync_bn;
  tc.epochs = 1;
  tc.accumulate_steps = accumulate;
  tc.comm = comm;
  Trainer trainer(*m.net, *m.step, *m.optimizer, tc);
  Sink sink;
  std::atomic<bool> stop{false};
  trainer.run(data, nullptr, sink, {}, stop);
  RunResult r;
  r.steps = sink.steps;
  r.weights = m.all(false);
  for (const StateEntry& e : m.net->state())
    if (e.value->dtype() == DType::F32) {
      const auto v = m.tensor(*e.value);
      r.state.insert(r.state.end(), v.begin(), v.end());
      const bool mean = e.name.ends_with("running_mean"), var = e.name.ends_with("running_var");
      if (mean || var) (mean ? r.running_mean : r.running_var).insert((mean ? r.running_mean : r.running_var).end(), v.begin(), v.end());
    } else if (e.value->dtype() == DType::I64) {
      r.counters.push_back(*e.value->data_as<const int64_t>());
    }
  return r;
}

}  // namespace cxr::test
