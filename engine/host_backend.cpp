#include <cmath>
#include <cstring>

#include "engine/backend.h"
#include "core/errors.h"

namespace cxr {
namespace {

void require_plain_f32(const Tensor& t, const char* what) {
  if (!t.defined() || !t.layout().is_plain() || t.dtype() != DType::F32)
    throw GraphError(std::string(what) + ": needs a plain f32 host tensor, got " +
                     (t.defined() ? t.desc().str() : "undefined"));
}

}  // namespace

Tensor HostBackend::allocate(const TensorDesc& desc) { return host_allocate(desc); }

void HostBackend::write_plain(Tensor& dst, const float* src) {
  require_plain_f32(dst, "write_plain");
  std::memcpy(dst.data(), src, static_cast<size_t>(dst.numel()) * sizeof(float));
}

void HostBackend::read_plain(const Tensor& src, float* dst) {
  require_plain_f32(src, "read_plain");
  std::memcpy(dst, src.data(), static_cast<size_t>(src.numel()) * sizeof(float));
}

void HostBackend::zero(Tensor& t) { std::memset(t.data(), 0, static_cast<size_t>(t.bytes())); }

double HostBackend::sum_squares(const Tensor& t) {
  require_plain_f32(t, "sum_squares");
  const float* p = t.data_as<const float>();
  const int64_t n = t.numel();
  double s = 0.0;
#pragma omp parallel for reduction(+ : s) num_threads(threads_) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(p[i]) * p[i];
  return s;
}

bool HostBackend::all_finite(const Tensor& t) {
  require_plain_f32(t, "all_finite");
  const float* p = t.data_as<const float>();
  const int64_t n = t.numel();
  int bad = 0;
#pragma omp parallel for reduction(| : bad) num_threads(threads_) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) bad |= !std::isfinite(p[i]);
  return bad == 0;
}

void HostBackend::scale(Tensor& t, double factor) {
  require_plain_f32(t, "scale");
  float* p = t.data_as<float>();
  const float f = static_cast<float>(factor);
  const int64_t n = t.numel();
#pragma omp parallel for num_threads(threads_) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) p[i] *= f;
}

// torch.optim.Adam / AdamW (non-amsgrad, foreach=False), in float like PyTorch's CPU kernel.
void HostBackend::adam_update(const AdamStep& s, Tensor& param, const Tensor& grad, Tensor& m,
                              Tensor& v) {
  require_plain_f32(param, "adam_update");
  float* p = param.data_as<float>();
  const float* g = grad.data_as<const float>();
  float* mm = m.data_as<float>();
  float* vv = v.data_as<float>();
  const int64_t n = param.numel();
  const double bc1 = 1.0 - std::pow(s.beta1, static_cast<double>(s.step));
  const double bc2 = 1.0 - std::pow(s.beta2, static_cast<double>(s.step));
  const float step_size = static_cast<float>(s.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = static_cast<float>(s.beta1), b2 = static_cast<float>(s.beta2);
  const float eps = static_cast<float>(s.eps), wd = static_cast<float>(s.weight_decay);
  const float decay = static_cast<float>(1.0 - s.lr * s.weight_decay);
#pragma omp parallel for num_threads(threads_) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    if (s.decoupled) {
      p[i] *= decay;
    } else if (wd != 0.0f) {
      gi += wd * p[i];
    }
    mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
    vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
    const float denom = std::sqrt(vv[i]) / bc2_sqrt + eps;
    p[i] -= step_size * mm[i] / denom;
  }
}

// torch.optim.SGD with momentum, dampening, nesterov and L2 weight decay.
void HostBackend::sgd_update(const SgdStep& s, Tensor& param, const Tensor& grad,
                             Tensor& momentum) {
  require_plain_f32(param, "sgd_update");
  float* p = param.data_as<float>();
  const float* g = grad.data_as<const float>();
  float* buf = momentum.defined() ? momentum.data_as<float>() : nullptr;
  const int64_t n = param.numel();
  const float lr = static_cast<float>(s.lr), mu = static_cast<float>(s.momentum);
  const float damp = static_cast<float>(s.dampening), wd = static_cast<float>(s.weight_decay);
#pragma omp parallel for num_threads(threads_) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float d = g[i];
    if (wd != 0.0f) d += wd * p[i];
    if (mu != 0.0f && buf) {
      buf[i] = s.first_step ? d : mu * buf[i] + (1.0f - damp) * d;
      d = s.nesterov ? d + mu * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

void HostBackend::copy(const Tensor& src, Tensor& dst) {
  if (!src.desc().same_as(dst.desc()))
    throw GraphError("copy: descriptors differ: " + src.desc().str() + " vs " + dst.desc().str());
  std::memcpy(dst.data(), src.data(), static_cast<size_t>(src.bytes()));
}

}  // namespace cxr
