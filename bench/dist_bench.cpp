// cxr_dist_bench: the measurements behind bench/dist_bench.sh (docs/distributed.md).
//   cxr_dist_bench allreduce [MB] [reps]   under mpirun: ResNet-50's gradient size summed over
//       the ranks, as one plain allreduce of the whole buffer (Communicator::allreduce_sum, i.e.
//       MPI_Allreduce) and as the trainer's 25 MB buckets; time, algorithm and bus bandwidth.
//   cxr_dist_bench train ARCH BATCH SIZE THREADS STEPS   a training step (forward, backward,
//       gradient reduction, Adam) of the global batch over however many ranks run it; the
//       reducer's communication seconds and how many of them were left after backward.
// One line of key=value per measurement on rank 0.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine/gradient_reducer.h"
#include "engine/init.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "engine/optimizer.h"
#include "engine/resnet.h"
#include "engine/train_step.h"
#include "plugins/backends.h"
#include "plugins/mpi/world.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int allreduce_bench(cxr::Communicator& comm, double mb, int reps) {
  const auto n = static_cast<int64_t>(mb * 1e6 / sizeof(float));
  std::vector<float> buf(static_cast<size_t>(n), 1.0f);
  const int64_t bucket = cxr::GradientReducer::kDefaultBucketBytes / static_cast<int64_t>(sizeof(float));
  std::vector<double> plain, bucketed;
  for (int r = 0; r < reps + 1; ++r) {  // interleaved, the first round untimed
    comm.barrier();
    auto t0 = Clock::now();
    comm.allreduce_sum(buf.data(), n);
    const double p = since(t0);
    comm.barrier();
    t0 = Clock::now();
    for (int64_t at = 0; at < n; at += bucket) comm.allreduce_sum(buf.data() + at, std::min(bucket, n - at));
    const double b = since(t0);
    if (r > 0) plain.push_back(p), bucketed.push_back(b);
  }
  const int size = comm.size();
  const double bytes = static_cast<double>(n) * sizeof(float);
  if (comm.rank() == 0)
    for (const auto& [name, t] : {std::pair{"plain", median(plain)}, std::pair{"buckets", median(bucketed)}})
      std::printf("allreduce=%s ranks=%d MB=%.1f seconds=%.4f algbw_GBps=%.3f busbw_GBps=%.3f\n", name, size,
                  bytes / 1e6, t, bytes / t / 1e9, 2.0 * (size - 1) / size * bytes / t / 1e9);
  return 0;
}

int train_bench(cxr::Communicator& comm, const std::string& arch, int64_t batch, int64_t size, int threads, int steps) {
  using namespace cxr;
  if (batch % comm.size() != 0) {
    std::fprintf(stderr, "batch %lld is not divisible by %d ranks\n", static_cast<long long>(batch), comm.size());
    return 2;
  }
  const int64_t micro = batch / comm.size();
  LayerRegistry registry;
  register_all_layers(registry);
  auto backend = make_backend("cpu", threads);
  ResNetConfig rc;
  rc.arch = arch, rc.num_classes = 2, rc.in_channels = 3;
  Network net(build_resnet(rc), registry, *backend);
  init_torchvision(net, 1);
  TrainStep step(net, registry, ops::SoftmaxCrossEntropyParams{});
  OptimizerConfig oc;
  Optimizer optimizer(oc, ScheduleConfig{}, net.parameters(), *backend, net.graph().stages);
  step.prepare({micro, 3, size, size}, {micro}, true);
  std::vector<float> images(static_cast<size_t>(micro * 3 * size * size)), labels(static_cast<size_t>(micro));
  std::mt19937 rng(static_cast<uint32_t>(comm.rank()));
  std::normal_distribution<float> normal;
  for (float& v : images) v = normal(rng);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<float>(i % 2);
  backend->write_plain(step.input(), images.data());
  backend->write_plain(step.targets(), labels.data());
  GradientReducer reducer(net, comm);
  Context ctx;
  std::vector<double> step_s, comm_s, wait_s;
  for (int s = 0; s < steps + 1; ++s) {  // the first step untimed
    comm.barrier();
    const auto t0 = Clock::now();
    if (comm.size() > 1) {
      reducer.begin_micro_batch(0, 1);
      ctx.backward_observer = &reducer;
    }
    step.run(ctx);
    if (comm.size() > 1) {
      reducer.end_micro_batch();
      reducer.finish(1.0 / comm.size());
    }
    optimizer.step(s);
    const double t = since(t0);
    if (s > 0) step_s.push_back(t), comm_s.push_back(reducer.last_comm_s()), wait_s.push_back(reducer.last_wait_s());
  }
  if (comm.rank() == 0) {
    const double t = median(step_s), c = median(comm_s), w = median(wait_s);
    std::printf("train arch=%s batch=%lld size=%lld ranks=%d threads=%d step_s=%.3f img_per_s=%.2f comm_s=%.3f "
                "comm_after_backward_s=%.3f overlapped=%.2f buckets=%lld gradient_MB=%.1f\n",
                arch.c_str(), static_cast<long long>(batch), static_cast<long long>(size), comm.size(), threads, t,
                static_cast<double>(batch) / t, c, w, c > 0 ? std::max(0.0, 1.0 - w / c) : 0.0,
                static_cast<long long>(reducer.buckets()), static_cast<double>(reducer.floats()) * 4 / 1e6);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    cxr::Communicator& comm = cxr::world_communicator();
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "allreduce")
      return allreduce_bench(comm, argc > 2 ? std::atof(argv[2]) : 97.5, argc > 3 ? std::atoi(argv[3]) : 5);
    if (mode == "train" && argc > 6)
      return train_bench(comm, argv[2], std::atoll(argv[3]), std::atoll(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]));
    std::fprintf(stderr, "usage: cxr_dist_bench allreduce [MB] [reps] | train ARCH BATCH SIZE THREADS STEPS\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cxr_dist_bench: %s\n", e.what());
    return 3;
  }
}
