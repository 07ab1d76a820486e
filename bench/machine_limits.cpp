// The machine's own limits for bench/run_cpu_bench.sh, on the given number of OpenMP threads, each
// the best of --repeat timed runs after one warm-up:
// - compute: oneDNN matrix multiplication of two square N × N matrices (f32, and bf16 inputs with
//   f32 output). A convolution network cannot run faster than the GEMM rate of its data type, so
//   a training rate times its FLOPs per image, divided by this, is the share of the machine the
//   network uses.
// - memory: a STREAM-style triad a = b + s·c over three float arrays far larger than the caches,
//   counted as STREAM counts it (three arrays' bytes per pass). Batch norm, the residual adds
//   and the optimizer run at this speed, and a shared machine's memory speed moves on its own
//   (another tenant's traffic): the bench prints it each round so that a ratio can be read
//   against the bandwidth it was measured at.
// Prints one JSON line per measurement:
//   {"backend":"gemm_limit","dtype":"f32","n":4096,"threads":2,"gflop_per_s":..,"isa":"avx2"}
//   {"backend":"memory_limit","kind":"triad","mib":..,"threads":2,"gb_per_s":..}
// or, where oneDNN has no native kernel (bf16 without AVX512_BF16 / AMX):
//   {"backend":"gemm_limit","dtype":"bf16","gflop_per_s":null,"why":"..."}
// Usage: machine_limits [--n 4096] [--repeat 5] [--threads 2] [--dtype f32|bf16|memory|all]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <dnnl.hpp>

namespace {

using dnnl::memory;

std::string isa_name() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core_amx: return "avx512_core_amx";
    case isa::avx512_core_bf16: return "avx512_core_bf16";
    case isa::avx512_core_vnni: return "avx512_core_vnni";
    case isa::avx512_core: return "avx512_core";
    case isa::avx2_vnni: return "avx2_vnni";
    case isa::avx2: return "avx2";
    default: return "other";
  }
}

bool native_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

// Best seconds of `repeat` runs of C = A·B through a oneDNN matmul primitive.
double time_matmul(memory::data_type in, int64_t n, int repeat) {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const memory::dims dims{n, n};
  const memory::desc a_md(dims, in, memory::format_tag::ab), b_md(dims, in, memory::format_tag::ab);
  const memory::desc c_md(dims, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), eng);
  memory a(a_md, eng), b(b_md, eng), c(c_md, eng);
  // Fill through f32 and a reorder, so that bf16 inputs hold real values (no denormals, no NaN).
  std::vector<float> host(static_cast<size_t>(n * n));
  for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.f - 0.5f;
  memory src(memory::desc(dims, memory::data_type::f32, memory::format_tag::ab), eng, host.data());
  dnnl::reorder(src, a).execute(s, src, a);
  dnnl::reorder(src, b).execute(s, src, b);
  dnnl::matmul mm(pd);
  double best = 1e30;
  for (int r = 0; r <= repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    mm.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    s.wait();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) best = std::min(best, dt);  // run 0 warms the caches, pages and jit
  }
  return best;
}

// Best seconds of `repeat` triads a = b + s·c over `count` floats each. The arrays are first
// touched by the threads that use them (the same static split as the timed loop), so on a
// machine with several memory nodes each thread streams from its own.
double time_triad(size_t count, int repeat) {
  std::unique_ptr<float[]> a(new float[count]), b(new float[count]), c(new float[count]);
  const auto n = static_cast<int64_t>(count);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] = 0.f, b[i] = 1.f, c[i] = 2.f;
  const float s = 0.5f;
  double best = 1e30;
  for (int r = 0; r <= repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) best = std::min(best, dt);
  }
  if (a[n / 2] != 2.f) std::fprintf(stderr, "machine_limits: the triad computed %g, not 2\n", a[n / 2]);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 4096;
  int repeat = 5, threads = 0;
  std::string which = "all";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--n")) n = std::max<int64_t>(64, std::atoll(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dtype")) which = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: machine_limits [--n N] [--repeat R] [--threads T] [--dtype f32|bf16|memory|all]\n");
      return 2;
    }
  }
  if (threads > 0) omp_set_num_threads(threads);
  threads = omp_get_max_threads();
  const double flop = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  try {
    for (const std::string dtype : {"f32", "bf16"}) {
      if (which != "all" && which != dtype) continue;
      std::printf("{\"backend\":\"gemm_limit\",\"dtype\":\"%s\",\"n\":%lld,\"threads\":%d,\"isa\":\"%s\",", dtype.c_str(),
                  static_cast<long long>(n), threads, isa_name().c_str());
      if (dtype == "bf16" && !native_bf16()) {
        std::printf("\"gflop_per_s\":null,\"why\":\"no AVX512_BF16 or AMX: oneDNN has no native bf16 kernel here\"}\n");
        continue;
      }
      const double s = time_matmul(dtype == "f32" ? memory::data_type::f32 : memory::data_type::bf16, n, repeat);
      std::printf("\"gflop_per_s\":%.1f,\"seconds\":%.4f}\n", flop / s / 1e9, s);
      std::fflush(stdout);
    }
    if (which == "all" || which == "memory") {
      const size_t count = size_t{64} << 20;  // 256 MiB per array, 768 MiB in all: far past any cache
      const double s = time_triad(count, repeat);
      std::printf("{\"backend\":\"memory_limit\",\"kind\":\"triad\",\"mib\":%zu,\"threads\":%d,\"gb_per_s\":%.1f}\n",
                  3 * count * sizeof(float) >> 20, threads, 3.0 * static_cast<double>(count * sizeof(float)) / s / 1e9);
    }
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "machine_limits: oneDNN: %s\n", e.what());
    return 3;
  }
  return 0;
}
