// The reference math of the first ops as plain loops over row-major arrays, templated on the
// scalar type: the reference layers run it in double (the truth for backend tests). Written to
// be checked by eye against the PyTorch formulas quoted in engine/ops/*.h; speed is not a goal.
// A new op keeps its math in its own plugins/reference/<op>_reference.cpp (sigmoid does): this
// file is no list to extend.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace cxr::ref {

struct Dims4 {
  int64_t n, c, h, w;
};

// y[n,o,i,j] = Σ_{c,kh,kw} x[n,c,i·s−p+kh, j·s−p+kw] · w[o,c,kh,kw] (+ b[o])
template <class T>
void conv2d_forward(const T* x, Dims4 xd, const T* w, const T* b, int64_t cout, int64_t k,
                    int64_t s, int64_t p, T* y, int64_t oh, int64_t ow) {
  for (int64_t n = 0; n < xd.n; ++n)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          T acc = b ? b[o] : T(0);
          for (int64_t c = 0; c < xd.c; ++c)
            for (int64_t kh = 0; kh < k; ++kh)
              for (int64_t kw = 0; kw < k; ++kw) {
                const int64_t ih = i * s - p + kh, iw = j * s - p + kw;
                if (ih < 0 || ih >= xd.h || iw < 0 || iw >= xd.w) continue;
                acc += x[((n * xd.c + c) * xd.h + ih) * xd.w + iw] * w[((o * xd.c + c) * k + kh) * k + kw];
              }
          y[((n * cout + o) * oh + i) * ow + j] = acc;
        }
}

// dx, dw, db (each may be null) from dy; all overwritten.
template <class T>
void conv2d_backward(const T* x, Dims4 xd, const T* w, int64_t cout, int64_t k, int64_t s,
                     int64_t p, const T* dy, int64_t oh, int64_t ow, T* dx, T* dw, T* db) {
  if (dx) std::fill(dx, dx + xd.n * xd.c * xd.h * xd.w, T(0));
  if (dw) std::fill(dw, dw + cout * xd.c * k * k, T(0));
  if (db) std::fill(db, db + cout, T(0));
  for (int64_t n = 0; n < xd.n; ++n)
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const T g = dy[((n * cout + o) * oh + i) * ow + j];
          if (db) db[o] += g;
          for (int64_t c = 0; c < xd.c; ++c)
            for (int64_t kh = 0; kh < k; ++kh)
              for (int64_t kw = 0; kw < k; ++kw) {
                const int64_t ih = i * s - p + kh, iw = j * s - p + kw;
                if (ih < 0 || ih >= xd.h || iw < 0 || iw >= xd.w) continue;
                const int64_t xi = ((n * xd.c + c) * xd.h + ih) * xd.w + iw;
                const int64_t wi = ((o * xd.c + c) * k + kh) * k + kw;
                if (dx) dx[xi] += g * w[wi];
                if (dw) dw[wi] += g * x[xi];
              }
        }
}

// Training-mode batch norm: batch mean and biased variance per channel; returns them in
// mean/var (for the running-stat update and backward). `relu` fuses max(0, ·).
template <class T>
void batchnorm_forward_train(const T* x, Dims4 d, const T* gamma, const T* beta, double eps,
                             bool relu, T* y, T* mean, T* var) {
  const int64_t hw = d.h * d.w, m = d.n * hw;
  for (int64_t c = 0; c < d.c; ++c) {
    T sum = 0;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t i = 0; i < hw; ++i) sum += x[(n * d.c + c) * hw + i];
    const T mu = sum / T(m);
    T sq = 0;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t i = 0; i < hw; ++i) {
        const T e = x[(n * d.c + c) * hw + i] - mu;
        sq += e * e;
      }
    const T v = sq / T(m);
    mean[c] = mu;
    var[c] = v;
    const T inv = T(1) / std::sqrt(v + T(eps));
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t idx = (n * d.c + c) * hw + i;
        const T out = gamma[c] * (x[idx] - mu) * inv + beta[c];
        y[idx] = relu && out < T(0) ? T(0) : out;
      }
  }
}

// Eval-mode batch norm with given statistics.
template <class T>
void batchnorm_forward_eval(const T* x, Dims4 d, const T* gamma, const T* beta, const T* mean,
                            const T* var, double eps, bool relu, T* y) {
  const int64_t hw = d.h * d.w;
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t c = 0; c < d.c; ++c) {
      const T inv = T(1) / std::sqrt(var[c] + T(eps));
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t idx = (n * d.c + c) * hw + i;
        const T out = gamma[c] * (x[idx] - mean[c]) * inv + beta[c];
        y[idx] = relu && out < T(0) ? T(0) : out;
      }
    }
}

// Training-mode backward. g = dy masked by y > 0 when relu;
// dx = γ/σ · (g − mean(g) − x̂ · mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
template <class T>
void batchnorm_backward_train(const T* x, Dims4 d, const T* gamma, const T* mean, const T* var,
                              double eps, bool relu, const T* y, const T* dy, T* dx, T* dgamma,
                              T* dbeta) {
  const int64_t hw = d.h * d.w, m = d.n * hw;
  for (int64_t c = 0; c < d.c; ++c) {
    const T inv = T(1) / std::sqrt(var[c] + T(eps));
    T sg = 0, sgx = 0;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t idx = (n * d.c + c) * hw + i;
        const T g = relu && !(y[idx] > T(0)) ? T(0) : dy[idx];
        sg += g;
        sgx += g * (x[idx] - mean[c]) * inv;
      }
    if (dgamma) dgamma[c] = sgx;
    if (dbeta) dbeta[c] = sg;
    if (!dx) continue;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t idx = (n * d.c + c) * hw + i;
        const T g = relu && !(y[idx] > T(0)) ? T(0) : dy[idx];
        const T xhat = (x[idx] - mean[c]) * inv;
        dx[idx] = gamma[c] * inv * (g - sg / T(m) - xhat * sgx / T(m));
      }
  }
}

// Max pooling with −∞ padding; `arg` receives the input index of each window's first maximum.
template <class T>
void maxpool_forward(const T* x, Dims4 d, int64_t k, int64_t s, int64_t p, T* y, int64_t oh,
                     int64_t ow, int64_t* arg) {
  for (int64_t nc = 0; nc < d.n * d.c; ++nc)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t where = -1;
        for (int64_t kh = 0; kh < k; ++kh)
          for (int64_t kw = 0; kw < k; ++kw) {
            const int64_t ih = i * s - p + kh, iw = j * s - p + kw;
            if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
            const int64_t idx = (nc * d.h + ih) * d.w + iw;
            if (x[idx] > best || where < 0) {  // strict: ties keep the first
              best = x[idx];
              where = idx;
            }
          }
        y[(nc * oh + i) * ow + j] = best;
        arg[(nc * oh + i) * ow + j] = where;
      }
}

template <class T>
void maxpool_backward(Dims4 d, const T* dy, int64_t outputs, const int64_t* arg, T* dx) {
  std::fill(dx, dx + d.n * d.c * d.h * d.w, T(0));
  for (int64_t o = 0; o < outputs; ++o) dx[arg[o]] += dy[o];
}

// y = x Wᵀ + b (x [n, in], W [out, in]); backward dx = dy W, dW = dyᵀ x, db = Σₙ dy.
template <class T>
void linear_forward(const T* x, const T* w, const T* b, int64_t n, int64_t in, int64_t out, T* y) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      T acc = b ? b[o] : T(0);
      for (int64_t k = 0; k < in; ++k) acc += x[i * in + k] * w[o * in + k];
      y[i * out + o] = acc;
    }
}

template <class T>
void linear_backward(const T* x, const T* w, const T* dy, int64_t n, int64_t in, int64_t out, T* dx,
                     T* dw, T* db) {
  if (dx) std::fill(dx, dx + n * in, T(0));
  std::fill(dw, dw + out * in, T(0));
  if (db) std::fill(db, db + out, T(0));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      const T g = dy[i * out + o];
      if (db) db[o] += g;
      for (int64_t k = 0; k < in; ++k) {
        if (dx) dx[i * in + k] += g * w[o * in + k];
        dw[o * in + k] += g * x[i * in + k];
      }
    }
}

// relu: y = max(0, x); dx = dy where x > 0 (0 at the kink, as PyTorch).
template <class T>
void relu_forward(const T* x, int64_t n, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}
template <class T>
void relu_backward(const T* x, const T* dy, int64_t n, T* dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
}

// add: y = a + b (then max(0, ·) when fused); da = db = dy where y > 0 (or everywhere).
template <class T>
void add_forward(const T* a, const T* b, int64_t n, bool relu, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const T s = a[i] + b[i];
    y[i] = relu && s < T(0) ? T(0) : s;
  }
}
template <class T>
void add_backward(const T* y, const T* dy, int64_t n, bool relu, T* dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = !relu || y[i] > T(0) ? dy[i] : T(0);
}

// Global average pooling over H·W; dx = dy / (H·W) everywhere.
template <class T>
void avgpool_forward(const T* x, Dims4 d, T* y) {
  const int64_t hw = d.h * d.w;
  for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
    T sum = 0;
    for (int64_t i = 0; i < hw; ++i) sum += x[nc * hw + i];
    y[nc] = sum / T(hw);
  }
}
template <class T>
void avgpool_backward(Dims4 d, const T* dy, T* dx) {
  const int64_t hw = d.h * d.w;
  for (int64_t nc = 0; nc < d.n * d.c; ++nc)
    for (int64_t i = 0; i < hw; ++i) dx[nc * hw + i] = dy[nc] / T(hw);
}

// Binary cross-entropy with logits, optional pos_weight per label:
// ℓ = (1 − t)·z + (1 + (pw − 1)·t)·softplus(−z); dℓ/dz = (1 − t) − (1 + (pw − 1)·t)·σ(−z).
// A target < 0 is masked (an uncertain label under U-Ignore, io/dataset.h kIgnoredTarget): it
// adds nothing to the loss and gets a zero gradient. The loss is the mean over the M unmasked
// terms, Σ ℓ / M, i.e. PyTorch's BCEWithLogitsLoss(reduction='none') summed over the unmasked
// entries and divided by their count (M = N·K without masks: reduction='mean'). M = 0 gives
// loss 0 and zero gradients rather than 0/0.
template <class T>
T bce_with_logits(const T* z, const T* t, const T* pos_weight, int64_t n, int64_t k, T* dz) {
  int64_t used = 0;
  for (int64_t i = 0; i < n * k; ++i) used += !(t[i] < T(0));
  const T count = T(used > 0 ? used : 1);
  T total = 0;
  for (int64_t i = 0; i < n * k; ++i) {
    if (t[i] < T(0)) {
      if (dz) dz[i] = T(0);
      continue;
    }
    const T pw = pos_weight ? pos_weight[i % k] : T(1);
    const T lw = T(1) + (pw - T(1)) * t[i];
    const T softplus = std::log1p(std::exp(-std::abs(z[i]))) + std::max(-z[i], T(0));
    total += (T(1) - t[i]) * z[i] + lw * softplus;
    if (dz) dz[i] = ((T(1) - t[i]) - lw / (T(1) + std::exp(z[i]))) / count;
  }
  return total / count;
}

// Softmax cross-entropy as torch.nn.functional.cross_entropy(weight, label_smoothing, "mean"):
// L = (1−ε)·Σᵢ w[yᵢ]·(−log p[i,yᵢ]) / W + (ε/K)·Σᵢ Σ_c w[c]·(−log p[i,c]) / W,
// W = Σᵢ w[yᵢ] (N without weights). dL/dz[i,c] = ((1−ε)·w[yᵢ]·(p − δ) + (ε/K)·(p·Σw − w[c])) / W.
template <class T>
T softmax_cross_entropy(const T* z, const int64_t* y, const T* weight, double smoothing,
                        int64_t n, int64_t k, T* dz) {
  const T eps = T(smoothing);
  T wsum = 0, total = 0, wall = 0;
  for (int64_t c = 0; c < k; ++c) wall += weight ? weight[c] : T(1);
  for (int64_t i = 0; i < n; ++i) wsum += weight ? weight[y[i]] : T(1);
  std::vector<T> prob(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) {
    const T* zi = z + i * k;
    const T mx = *std::max_element(zi, zi + k);
    T se = 0;
    for (int64_t c = 0; c < k; ++c) se += std::exp(zi[c] - mx);
    const T lse = mx + std::log(se);
    const T wy = weight ? weight[y[i]] : T(1);
    total += (T(1) - eps) * wy * (lse - zi[y[i]]);
    for (int64_t c = 0; c < k; ++c) {
      const T wc = weight ? weight[c] : T(1);
      total += eps / T(k) * wc * (lse - zi[c]);
      prob[static_cast<size_t>(c)] = std::exp(zi[c] - lse);
    }
    if (!dz) continue;
    for (int64_t c = 0; c < k; ++c) {
      const T p = prob[static_cast<size_t>(c)];
      const T wc = weight ? weight[c] : T(1);
      const T hard = (T(1) - eps) * wy * (p - (c == y[i] ? T(1) : T(0)));
      const T soft = eps / T(k) * (p * wall - wc);
      dz[i * k + c] = (hard + soft) / wsum;
    }
  }
  return total / wsum;
}

}  // namespace cxr::ref
