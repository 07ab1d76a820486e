#include "bench/train_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "core/did_you_mean.h"
#include "core/errors.h"
#include "engine/init.h"
#include "engine/resnet.h"
#include "engine/train_step.h"
#include "plugins/backends.h"
#include "engine/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

constexpr double kMiB = 1024.0 * 1024.0;

MemoryBreakdown memory_breakdown(Network& net, Backend& backend) {
  MemoryBreakdown m;
  if (backend.device() != Device::Cpu) return m;
  int64_t params = 0;
  for (Parameter* p : net.parameters()) params += p->value.bytes() + p->grad.bytes();
  const Network::ActivationMemory a = net.activation_memory();
  m.parameters = static_cast<double>(params) / kMiB;
  m.optimizer = m.parameters;  // two moments, each the size of the values
  m.input = static_cast<double>(a.input) / kMiB;
  m.kept_activations = static_cast<double>(a.kept) / kMiB;
  m.arena = static_cast<double>(a.arena) / kMiB;
  m.shared_scratch = static_cast<double>(backend.shared_scratch_bytes()) / kMiB;
  m.host_tensors = static_cast<double>(host_tensor_bytes()) / kMiB;
  m.layer_buffers = m.host_tensors - m.parameters - m.optimizer - m.input - m.kept_activations - m.arena -
                    m.shared_scratch;
  return m;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Adam over every parameter, state allocated once (PyTorch defaults, lr 1e-4).
class BenchAdam {
 public:
  explicit BenchAdam(Network& net) : backend_(net.backend()), params_(net.parameters()) {
    for (Parameter* p : params_) {
      m_.push_back(backend_.allocate(p->value.desc()));
      v_.push_back(backend_.allocate(p->value.desc()));
    }
  }
  void step() {
    AdamStep s;
    s.lr = 1e-4;
    s.step = ++t_;
    for (size_t i = 0; i < params_.size(); ++i)
      backend_.adam_update(s, params_[i]->value, params_[i]->grad, m_[i], v_[i]);
  }

 private:
  Backend& backend_;
  std::vector<Parameter*> params_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

// BenchConfig::checkpointing as stages of `net` (UsageError naming the option).
std::vector<std::string> checkpointed_stages(const BenchConfig& c, Network& net, const Shape& shape) {
  const std::vector<std::string>& known = net.graph().stages;
  if (c.checkpointing == "none") return {};
  if (c.checkpointing == "all") return known;
  const auto limit = static_cast<int64_t>(c.memory_limit_gib * 1024.0 * 1024.0 * 1024.0);
  if (c.checkpointing == "auto") {
    if (c.memory_limit_gib <= 0) throw UsageError("bench: --activation-checkpointing auto needs --memory-limit-gib");
    const CheckpointChoice choice = choose_checkpointed_stages(net, shape, limit, 0);
    if (!choice.fits)
      throw UsageError("bench: --memory-limit-gib " + format_gib(limit) + " is too small: every stage checkpointed "
                       "is estimated at " + format_gib(choice.estimate.total()));
    return choice.stages;
  }
  std::vector<std::string> stages;
  size_t start = 0;
  while (start <= c.checkpointing.size()) {
    const size_t end = std::min(c.checkpointing.find(',', start), c.checkpointing.size());
    const std::string s = c.checkpointing.substr(start, end - start);
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      const std::string near = closest_name(s, known);
      throw UsageError("bench: --activation-checkpointing: '" + s + "' is not a stage" +
                       (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; none, all, auto or stages of " +
                       c.arch);
    }
    stages.push_back(s);
    start = end + 1;
  }
  return stages;
}

}  // namespace

BenchResult run_bench(const BenchConfig& c,
                      const std::function<void(const std::string&, int, int)>& progress) {
  if (c.batch < 1 || c.size < 32 || c.steps < 1 || c.warmup < 0)
    throw UsageError("bench: batch >= 1, size >= 32, steps >= 1 and warmup >= 0 are required");
  const int threads = c.threads > 0 ? c.threads : static_cast<int>(std::thread::hardware_concurrency());
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend(c.backend, threads, precision_dtype(c.dtype), c.conv_algorithm);

  ResNetConfig rc;
  rc.arch = c.arch;
  rc.num_classes = c.num_classes;
  Network net(build_resnet(rc), registry, *backend);
  net.set_training_fusions(c.training_fusions);
  init_torchvision(net, 0);
  ops::SoftmaxCrossEntropyParams loss;
  TrainStep step(net, registry, loss);
  const Shape input_shape{c.batch, 3, c.size, c.size};

  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  std::vector<float> images(static_cast<size_t>(numel(input_shape)));
  std::vector<float> labels(static_cast<size_t>(c.batch));
  for (float& x : images) x = normal(rng);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<float>(i % c.num_classes);

  BenchResult r;
  r.arch = c.arch;
  r.backend = backend->name();
  r.isa = backend->describe();
  r.dtype = c.dtype;
  r.batch = c.batch;
  r.size = c.size;

  using clock = std::chrono::steady_clock;
  BenchAdam adam(net);  // before the estimate, which counts its moments
  r.checkpointed = checkpointed_stages(c, net, input_shape);
  r.estimate = estimate_training_peak(net, input_shape, r.checkpointed, 0);
  net.set_checkpointed_stages(r.checkpointed);
  step.prepare(input_shape, {c.batch}, /*training=*/true);
  r.forward_gflop_per_image = forward_flops(net) / static_cast<double>(c.batch) / 1e9;
  Context ctx;
  ctx.training = true;
  std::vector<double> times;
  const int total = c.warmup + c.steps;
  StepProfile train_profile, infer_profile;
  const auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
  };
  for (int i = 0; i < total; ++i) {
    ctx.profile = c.profile && i >= c.warmup ? &train_profile : nullptr;
    const auto t0 = clock::now();
    backend->write_plain(step.input(), images.data());
    backend->write_plain(step.targets(), labels.data());
    const double l = step.run(ctx);
    adam.step();
    backend->synchronize();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (i == 0) r.first_loss = l;
    r.last_loss = l;
    if (i >= c.warmup) times.push_back(dt);
    ctx.step++;
    if (progress) progress("train", i + 1, total);
  }
  r.train_step_s = median(times);
  r.train_images_per_s = static_cast<double>(c.batch) / r.train_step_s;
  if (c.profile) r.train_profile = make_layer_profile(net, train_profile, mean(times));
  r.peak_rss_mib = peak_rss_mib();
  r.memory = memory_breakdown(net, *backend);

  if (c.inference) {
    step.prepare(input_shape, {c.batch}, /*training=*/false);
    ctx.training = false;
    times.clear();
    for (int i = 0; i < total; ++i) {
      ctx.profile = c.profile && i >= c.warmup ? &infer_profile : nullptr;
      const auto t0 = clock::now();
      backend->write_plain(step.input(), images.data());
      step.run(ctx);
      backend->synchronize();
      if (i >= c.warmup) times.push_back(std::chrono::duration<double>(clock::now() - t0).count());
      if (progress) progress("infer", i + 1, total);
    }
    r.infer_step_s = median(times);
    r.infer_images_per_s = static_cast<double>(c.batch) / r.infer_step_s;
    if (c.profile) r.infer_profile = make_layer_profile(net, infer_profile, mean(times));
  }
  return r;
}

}  // namespace cxr
