// Which of cuDNN's candidate convolution algorithms a layer runs, given the candidates' results
// (cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, from cudnnFind* ranked by measured time or
// from cudnnGet*_v7 ranked by heuristics). Host-only logic over plain structs, tested without a
// GPU (tests/cudnn/descriptor_plan_test.cpp).
//
// The rule: a successful result within the workspace limit, for f32 only FMA/default math (no
// TF32), and a deterministic one whenever any qualifies — NHWC backward-data/filter ALGO_0 use
// atomics, so the fastest is often not reproducible; PyTorch's deterministic mode filters the
// same field. Among equals the first in cuDNN's ranking wins. Only when no deterministic result
// qualifies is a nondeterministic one taken (`deterministic` tells the caller).
#pragma once
#include <cudnn.h>

#include <cstddef>

namespace cxr::gpu {

template <class Perf>
bool qualifies(const Perf& p, bool exact_f32, size_t limit) {
  if (p.status != CUDNN_STATUS_SUCCESS || p.memory > limit) return false;
  return !exact_f32 || p.mathType == CUDNN_FMA_MATH || p.mathType == CUDNN_DEFAULT_MATH;
}

template <class Perf>
const Perf* pick_algo(const Perf* perf, int count, bool exact_f32, size_t limit,
                      bool* deterministic = nullptr) {
  for (const bool need_deterministic : {true, false})
    for (int i = 0; i < count; ++i) {
      const Perf& p = perf[i];
      if (!qualifies(p, exact_f32, limit)) continue;
      if (need_deterministic && p.determinism != CUDNN_DETERMINISTIC) continue;
      if (deterministic) *deterministic = p.determinism == CUDNN_DETERMINISTIC;
      return &p;
    }
  return nullptr;
}

}  // namespace cxr::gpu
