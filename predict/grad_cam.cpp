#include "predict/grad_cam.h"

#include <algorithm>

#include "core/errors.h"

namespace cxr {

GradCam::GradCam(Network& net, const std::string& stage) : net_(net) {
  for (const NodeSpec& n : net.graph().nodes)
    if (n.stage == stage) node_ = n.name;  // the stage's last node is its output
  if (node_.empty()) throw GraphError("Grad-CAM: network '" + net.graph().arch + "' has no stage '" + stage + "'");
  net_.set_probes({node_});
}

std::vector<float> grad_cam_map(const float* a, const float* grad, int64_t c, int64_t h, int64_t w) {
  const int64_t hw = h * w;
  std::vector<double> sum(static_cast<size_t>(hw), 0.0);
  for (int64_t k = 0; k < c; ++k) {
    double alpha = 0;
    for (int64_t p = 0; p < hw; ++p) alpha += grad[k * hw + p];
    alpha /= static_cast<double>(hw);
    for (int64_t p = 0; p < hw; ++p) sum[static_cast<size_t>(p)] += alpha * a[k * hw + p];
  }
  std::vector<float> map(static_cast<size_t>(hw));
  for (int64_t p = 0; p < hw; ++p) map[static_cast<size_t>(p)] = static_cast<float>(std::max(0.0, sum[static_cast<size_t>(p)]));
  return map;
}

std::vector<float> GradCam::compute(const std::vector<int64_t>& classes, Context& ctx) {
  const Shape& shape = net_.output_of(node_).shape();  // [N, C, h, w]
  if (shape.size() != 4) throw GraphError("Grad-CAM: " + node_ + " output is not [N, C, H, W]");
  const int64_t n = shape[0], c = shape[1], k = net_.graph().num_classes;
  h_ = shape[2], w_ = shape[3];
  if (static_cast<int64_t>(classes.size()) > n) throw UsageError("Grad-CAM: more classes than samples in the batch");
  // One backward for the whole batch: in eval mode samples do not interact, so a one-hot row per
  // sample gives each sample the gradient of its own logit.
  std::vector<float> onehot(static_cast<size_t>(n * k), 0.0f);
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] < 0 || classes[i] >= k) throw UsageError("Grad-CAM: class index " + std::to_string(classes[i]) + " out of range");
    onehot[i * static_cast<size_t>(k) + static_cast<size_t>(classes[i])] = 1.0f;
  }
  if (dlogits_.shape() != Shape{n, k}) dlogits_ = net_.backend().allocate(plain_desc({n, k}));
  net_.backend().write_plain(dlogits_, onehot.data());
  const std::vector<float> a = net_.output_plain(node_);
  net_.backward_to(node_, dlogits_, ctx);
  const std::vector<float> g = net_.input_gradient_plain(node_);
  const int64_t per = c * h_ * w_;
  std::vector<float> maps;
  maps.reserve(classes.size() * static_cast<size_t>(h_ * w_));
  for (size_t i = 0; i < classes.size(); ++i) {
    const auto m = grad_cam_map(a.data() + static_cast<int64_t>(i) * per, g.data() + static_cast<int64_t>(i) * per, c, h_, w_);
    maps.insert(maps.end(), m.begin(), m.end());
  }
  return maps;
}

}  // namespace cxr
