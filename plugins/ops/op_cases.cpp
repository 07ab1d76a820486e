// Test cases of every in-tree op for the registry-wide sweeps: odd spatial sizes, batch 1,
// stride 2, padding, kernels 1/3/7, channel counts that are and are not multiples of 16 (so
// blocked layouts pad), the fused variants, class weights, label smoothing and pos_weight.
#include "plugins/ops/add.h"
#include "plugins/ops/batchnorm2d.h"
#include "plugins/ops/bce_with_logits.h"
#include "plugins/ops/conv2d.h"
#include "plugins/ops/flatten.h"
#include "plugins/ops/global_avgpool.h"
#include "plugins/ops/linear.h"
#include "plugins/ops/maxpool2d.h"
#include "plugins/ops/register.h"
#include "plugins/ops/relu.h"
#include "plugins/ops/softmax_cross_entropy.h"

namespace cxr {
namespace {

OpCase make_case(std::shared_ptr<const OpParams> params, std::vector<Shape> inputs) {
  OpCase c;
  c.params = std::move(params);
  c.inputs = std::move(inputs);
  return c;
}

std::vector<OpCase> conv2d_cases() {
  struct C { int64_t n, cin, h, w, cout, k, s; };
  const C list[] = {{2, 3, 9, 7, 16, 7, 2}, {1, 16, 6, 6, 16, 3, 1}, {2, 17, 5, 7, 5, 1, 1},
                    {2, 16, 7, 7, 32, 1, 2}, {1, 5, 8, 9, 17, 3, 2}};
  std::vector<OpCase> out;
  for (const C& c : list) {
    auto p = std::make_shared<ops::Conv2dParams>();
    p->in_channels = c.cin, p->out_channels = c.cout, p->kernel = c.k, p->stride = c.s;
    p->padding = c.k / 2;
    out.push_back(make_case(p, {{c.n, c.cin, c.h, c.w}}));
  }
  auto biased = std::make_shared<ops::Conv2dParams>();
  biased->in_channels = 4, biased->out_channels = 6, biased->kernel = 3, biased->padding = 1;
  biased->bias = true;
  out.push_back(make_case(biased, {{2, 4, 5, 5}}));
  return out;
}

std::vector<OpCase> batchnorm2d_cases() {
  std::vector<OpCase> out;
  for (bool relu : {false, true})
    for (Shape s : {Shape{4, 16, 5, 3}, Shape{2, 17, 4, 4}, Shape{3, 5, 1, 1}}) {
      auto p = std::make_shared<ops::BatchNorm2dParams>();
      p->channels = s[1];
      p->fuse_relu = relu;
      out.push_back(make_case(p, {s}));
    }
  return out;
}

std::vector<OpCase> maxpool2d_cases() {
  std::vector<OpCase> out;
  for (Shape s : {Shape{2, 16, 9, 7}, Shape{1, 17, 8, 8}, Shape{2, 3, 5, 6}})
    out.push_back(make_case(std::make_shared<ops::MaxPool2dParams>(), {s}));
  auto k2 = std::make_shared<ops::MaxPool2dParams>();
  k2->kernel = 2, k2->stride = 2, k2->padding = 0;
  out.push_back(make_case(k2, {{2, 16, 6, 7}}));
  return out;
}

std::vector<OpCase> unary_cases(std::shared_ptr<const OpParams> p) {
  std::vector<OpCase> out;
  for (Shape s : {Shape{2, 16, 5, 7}, Shape{1, 17, 3, 3}, Shape{3, 32, 1, 1}}) out.push_back(make_case(p, {s}));
  return out;
}

std::vector<OpCase> add_cases() {
  std::vector<OpCase> out;
  for (bool relu : {false, true})
    for (Shape s : {Shape{2, 16, 5, 7}, Shape{1, 17, 3, 3}}) {
      auto p = std::make_shared<ops::AddParams>();
      p->fuse_relu = relu;
      out.push_back(make_case(p, {s, s}));
    }
  return out;
}

std::vector<OpCase> linear_cases() {
  std::vector<OpCase> out;
  for (auto [n, in, o, bias] : {std::tuple{4, 16, 2, true}, std::tuple{1, 17, 5, true},
                                std::tuple{3, 32, 3, false}}) {
    auto p = std::make_shared<ops::LinearParams>();
    p->in_features = in, p->out_features = o, p->bias = bias;
    out.push_back(make_case(p, {{n, in}}));
  }
  return out;
}

std::vector<OpCase> cross_entropy_cases() {
  std::vector<OpCase> out;
  auto plain = std::make_shared<ops::SoftmaxCrossEntropyParams>();
  auto weighted = std::make_shared<ops::SoftmaxCrossEntropyParams>();
  weighted->class_weights = {0.3f, 1.7f, 1.0f};
  auto smooth = std::make_shared<ops::SoftmaxCrossEntropyParams>();
  smooth->label_smoothing = 0.1;
  smooth->class_weights = {2.0f, 0.5f, 1.0f};
  for (const auto& p : {std::shared_ptr<const OpParams>(plain), std::shared_ptr<const OpParams>(weighted),
                        std::shared_ptr<const OpParams>(smooth)}) {
    OpCase c = make_case(p, {{5, 3}, {5}});
    c.differentiable = {true, false};
    c.fill = [](size_t i, std::span<float> v, std::mt19937& rng) {
      std::normal_distribution<float> normal;
      std::uniform_int_distribution<int> cls(0, 2);
      for (float& x : v) x = i == 0 ? 2.0f * normal(rng) : static_cast<float>(cls(rng));
    };
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<OpCase> bce_cases() {
  std::vector<OpCase> out;
  auto plain = std::make_shared<ops::BceWithLogitsParams>();
  auto weighted = std::make_shared<ops::BceWithLogitsParams>();
  weighted->pos_weight = {1.0f, 3.0f, 0.5f, 2.0f};
  for (const auto& p : {std::shared_ptr<const OpParams>(plain), std::shared_ptr<const OpParams>(weighted)}) {
    OpCase c = make_case(p, {{3, 4}, {3, 4}});
    c.differentiable = {true, false};
    c.fill = [](size_t i, std::span<float> v, std::mt19937& rng) {
      std::normal_distribution<float> normal;
      std::uniform_real_distribution<float> unit(0.0f, 1.0f);
      for (float& x : v) x = i == 0 ? 3.0f * normal(rng) : (unit(rng) < 0.5f ? 0.0f : 1.0f);
    };
    out.push_back(std::move(c));
  }
  return out;
}

void add_info(LayerRegistry& r, const std::string& name, int arity,
              std::function<std::vector<OpCase>()> cases) {
  OpInfo info;
  info.name = name;
  info.arity = arity;
  info.cases = std::move(cases);
  r.add_op(std::move(info));
}

}  // namespace

void register_ops(LayerRegistry& r) {
  add_info(r, "conv2d", 1, conv2d_cases);
  add_info(r, "batchnorm2d", 1, batchnorm2d_cases);
  add_info(r, "relu", 1, [] { return unary_cases(std::make_shared<ops::ReluParams>()); });
  add_info(r, "maxpool2d", 1, maxpool2d_cases);
  add_info(r, "global_avgpool", 1, [] { return unary_cases(std::make_shared<ops::GlobalAvgPoolParams>()); });
  add_info(r, "flatten", 1, [] { return unary_cases(std::make_shared<ops::FlattenParams>()); });
  add_info(r, "linear", 1, linear_cases);
  add_info(r, "add", 2, add_cases);
  add_info(r, "softmax_cross_entropy", 2, cross_entropy_cases);
  add_info(r, "bce_with_logits", 2, bce_cases);
}

}  // namespace cxr
