// Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
// Gradient-based Localization") at the output A of a network stage (ResNet `layer4`: the last
// node of that stage). For sample i and class c:
//   α_k = (1 / hw) Σ_{x,y} ∂y_c / ∂A_k(x, y)      y_c the logit of c, before softmax/sigmoid
//                                                (and before any temperature)
//   map = ReLU(Σ_k α_k A_k)                        [h, w], at the stage's resolution
// The gradient is the engine's own backward from the logits down to A only (Network::backward_to:
// no layer at or before the stage runs backward, no parameter gradient below it), on whatever
// backend the network was built for, with the eval forward (BN running statistics).
// Use: construct before net.prepare() (it makes the stage's output a probe), then after each
// net.forward(ctx) call compute(). Sums are taken in double.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/network.h"

namespace cxr {

class GradCam {
 public:
  // GraphError when the network has no node in `stage`.
  explicit GradCam(Network& net, const std::string& stage = "layer4");

  const std::string& node() const { return node_; }

  // Maps for samples 0 .. classes.size()−1 of the last forward(), for class classes[i] each:
  // classes.size() × height() × width() floats, row-major. Overwrites the gradients of the
  // layers after the stage (avgpool, fc); nothing else.
  std::vector<float> compute(const std::vector<int64_t>& classes, Context& ctx);

  int64_t height() const { return h_; }
  int64_t width() const { return w_; }

 private:
  Network& net_;
  std::string node_;
  Tensor dlogits_;
  int64_t h_ = 0, w_ = 0;
};

// The same arithmetic on plain host arrays: `a` and `grad` [c, h, w] for one sample → map [h, w].
// What compute() applies per sample; tests check it on hand-made values.
std::vector<float> grad_cam_map(const float* a, const float* grad, int64_t c, int64_t h, int64_t w);

}  // namespace cxr
