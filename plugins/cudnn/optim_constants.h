// The per-step constants of the device optimizer kernels, computed on the host exactly as
// HostBackend::adam_update / sgd_update compute theirs (double, then one rounding to float), so
// that kernel_math.h's adam_element/sgd_element round like the host loops.
#pragma once
#include <cmath>

#include "engine/backend.h"
#include "plugins/cudnn/kernels.h"

namespace cxr::gpu {

inline AdamConstants adam_constants(const AdamStep& s) {
  const double bc1 = 1.0 - std::pow(s.beta1, static_cast<double>(s.step));
  const double bc2 = 1.0 - std::pow(s.beta2, static_cast<double>(s.step));
  AdamConstants c{};
  c.step_size = static_cast<float>(s.lr / bc1);
  c.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  c.beta1 = static_cast<float>(s.beta1);
  c.beta2 = static_cast<float>(s.beta2);
  c.eps = static_cast<float>(s.eps);
  c.weight_decay = static_cast<float>(s.weight_decay);
  c.decay = static_cast<float>(1.0 - s.lr * s.weight_decay);
  c.decoupled = s.decoupled;
  return c;
}

inline SgdConstants sgd_constants(const SgdStep& s) {
  SgdConstants c{};
  c.lr = static_cast<float>(s.lr);
  c.momentum = static_cast<float>(s.momentum);
  c.dampening = static_cast<float>(s.dampening);
  c.weight_decay = static_cast<float>(s.weight_decay);
  c.nesterov = s.nesterov;
  c.first_step = s.first_step;
  return c;
}

}  // namespace cxr::gpu
