// bce_with_logits's test cases: plain, pos_weight, and masked targets (−1 = ignored, the
// U-Ignore labels of io/dataset.h) with and without pos_weight, where one row is fully masked
// and one label never is, so the unmasked count and the per-term skip both matter; and one
// case with every target masked (loss 0, zero gradients).
#include "engine/ops/bce_with_logits.h"

#include "engine/ops/op_cases.h"

namespace cxr::ops {
namespace {

enum class Mask { None, Some, All };

OpCase bce_case(std::vector<float> pos_weight, Mask mask) {
  const bool masked = mask == Mask::Some;
  auto p = std::make_shared<BceWithLogitsParams>();
  p->pos_weight = std::move(pos_weight);
  const Shape shape = mask == Mask::Some ? Shape{5, 4} : mask == Mask::All ? Shape{2, 4} : Shape{3, 4};
  OpCase c = make_case(p, {shape, shape});
  c.differentiable = {true, false};
  c.fill = [masked, mask](size_t i, std::span<float> v, std::mt19937& rng) {
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (size_t j = 0; j < v.size(); ++j) {
      if (i == 0) {
        v[j] = 3.0f * normal(rng);
        continue;
      }
      const float u = unit(rng);
      const size_t row = j / 4, label = j % 4;
      const bool ignore = mask == Mask::All || (masked && label != 0 && (row == 1 || u < 0.35f));
      v[j] = ignore ? -1.0f : (unit(rng) < 0.5f ? 0.0f : 1.0f);
    }
  };
  return c;
}

std::vector<OpCase> bce_cases() {
  const std::vector<float> pw{1.0f, 3.0f, 0.5f, 2.0f};
  return {bce_case({}, Mask::None), bce_case(pw, Mask::None), bce_case({}, Mask::Some), bce_case(pw, Mask::Some),
          bce_case(pw, Mask::All)};
}

}  // namespace

OpInfo bce_with_logits_op_info() { return {"bce_with_logits", bce_cases}; }

}  // namespace cxr::ops
