// softmax_cross_entropy's test cases: plain, class weights, and label smoothing with weights.
// Targets are class indices (not differentiable); logits normal(0, 2).
#include "engine/ops/softmax_cross_entropy.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

std::vector<OpCase> cross_entropy_cases() {
  std::vector<OpCase> out;
  auto plain = std::make_shared<SoftmaxCrossEntropyParams>();
  auto weighted = std::make_shared<SoftmaxCrossEntropyParams>();
  weighted->class_weights = {0.3f, 1.7f, 1.0f};
  auto smooth = std::make_shared<SoftmaxCrossEntropyParams>();
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

}  // namespace

OpInfo softmax_cross_entropy_op_info() { return {"softmax_cross_entropy", cross_entropy_cases}; }

}  // namespace cxr::ops
