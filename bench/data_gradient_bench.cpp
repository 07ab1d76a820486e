// The strided input gradients of ResNet-50 (bf16, nhwc, on an AMX CPU), each of cxrtune's paths
// against oneDNN 2.6's own convolution backward data on the same memory, alternating, median of
// --repeat runs after one warm-up:
//   1×1 stride 2 (the downsamples): MatmulDataGradient (compact matmul + scatter);
//   3×3 stride 2 padding 1: PolyphaseDataGradient (four stride-1 convolutions + interleave).
// Prints one JSON line per shape: {"shape":..,"ours_ms":..,"onednn_ms":..,"onednn_impl":..}.
// Usage: data_gradient_bench [--batch 32] [--threads 2] [--repeat 15]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "plugins/onednn/conv_data_gradient.h"
#include "plugins/onednn/conv_polyphase_data_gradient.h"
#include "plugins/onednn/onednn_backend.h"

namespace {

using dnnl::memory;
using namespace cxr;

struct StridedConv {
  int64_t c, k, h, kernel;
};

template <class F>
double median_ms(int repeat, F&& run) {
  std::vector<double> ms;
  for (int r = 0; r <= repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    if (r > 0) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t batch = 32;
  int threads = 2, repeat = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) batch = std::max<int64_t>(1, std::atoll(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--threads")) threads = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: data_gradient_bench [--batch N] [--threads T] [--repeat R]\n");
      return 2;
    }
  }
  if (!OnednnBackend::has_amx()) {
    std::printf("{\"skipped\":\"no AMX on this CPU (%s): bf16 runs channel-blocked and these paths are not taken\"}\n",
                OnednnBackend::isa_name().c_str());
    return 0;
  }
  omp_set_num_threads(threads);
  OnednnBackend be(threads, DType::BF16);
  auto& eng = be.engine();
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.f, 1.f);
  const StridedConv shapes[] = {{256, 512, 56, 1}, {512, 1024, 28, 1}, {1024, 2048, 14, 1},
                          {128, 128, 56, 3}, {256, 256, 28, 3}, {512, 512, 14, 3}};
  for (const StridedConv& s : shapes) {
    ops::Conv2dParams p;
    p.in_channels = s.c, p.out_channels = s.k, p.kernel = s.kernel, p.stride = 2, p.padding = s.kernel / 2;
    const int64_t oh = (s.h + 2 * p.padding - s.kernel) / 2 + 1;
    const memory::desc src({batch, s.c, s.h, s.h}, memory::data_type::bf16, memory::format_tag::nhwc);
    const memory::desc dst({batch, s.k, oh, oh}, memory::data_type::bf16, memory::format_tag::nhwc);
    dnn::MatmulDataGradient matmul;
    dnn::PolyphaseDataGradient polyphase;
    if (s.kernel == 1) matmul = dnn::MatmulDataGradient(p, src, dst, be);
    else polyphase = dnn::PolyphaseDataGradient(p, src, dst, be);

    std::vector<float> w(static_cast<size_t>(s.k * s.c * s.kernel * s.kernel));
    for (float& v : w) v = normal(gen) * 0.05f;
    memory dy(dst, eng), dx(src, eng);
    auto* dy_bits = static_cast<uint16_t*>(dy.get_data_handle());
    for (size_t i = 0; i < dst.get_size() / 2; ++i) dy_bits[i] = 0x3c00 | (gen() & 0x7f);  // non-zero bf16
    const auto ours = [&] {
      if (matmul) matmul.run(w.data(), dy.get_data_handle(), dx.get_data_handle());
      else polyphase.run(w.data(), dy.get_data_handle(), dx.get_data_handle());
    };

    const memory::dims st{2, 2}, pad{p.padding, p.padding};
    const memory::desc w_any({s.k, s.c, s.kernel, s.kernel}, memory::data_type::bf16, memory::format_tag::any);
    const auto alg = dnnl::algorithm::convolution_direct;
    const dnnl::convolution_forward::primitive_desc fwd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, w_any, dst, st, pad, pad), eng);
    const dnnl::convolution_backward_data::primitive_desc bd(
        dnnl::convolution_backward_data::desc(alg, src, w_any, dst, st, pad, pad), eng, fwd);
    memory plain(memory::desc({s.k, s.c, s.kernel, s.kernel}, memory::data_type::f32, memory::format_tag::oihw), eng,
                 w.data());
    memory kernel(bd.weights_desc(), eng);
    dnnl::convolution_backward_data conv(bd);
    // Like the layer's own backward data: the weights' reorder to the kernel's layout each step.
    const auto theirs = [&] {
      dnnl::reorder(plain, kernel).execute(be.stream(), plain, kernel);
      conv.execute(be.stream(), {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, kernel}, {DNNL_ARG_DIFF_SRC, dx}});
      be.stream().wait();
    };
    std::vector<double> mine, onednn;
    for (int round = 0; round < 3; ++round) {  // alternating, so a drift of the machine hits both
      mine.push_back(median_ms(repeat, ours));
      onednn.push_back(median_ms(repeat, theirs));
    }
    std::sort(mine.begin(), mine.end());
    std::sort(onednn.begin(), onednn.end());
    std::printf("{\"shape\":\"%s on [%lld, %lld, %lld, %lld] bf16 nhwc\",\"path\":\"%s\",\"ours_ms\":%.2f,"
                "\"onednn_ms\":%.2f,\"onednn_impl\":\"%s\",\"threads\":%d}\n",
                p.str().c_str(), static_cast<long long>(batch), static_cast<long long>(s.c),
                static_cast<long long>(s.h), static_cast<long long>(s.h),
                s.kernel == 1 ? "matmul + scatter" : "4 convolutions + interleave", mine[1], onednn[1],
                bd.impl_info_str(), threads);
    std::fflush(stdout);
  }
  return 0;
}
