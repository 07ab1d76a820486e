#include "plugins/reference/register.h"

#include "plugins/reference/reference_backend.h"

namespace cxr {

void register_reference_layers(LayerRegistry& r) {
  r.add("conv2d", "reference", &ref::make_conv2d_reference);
  r.add("batchnorm2d", "reference", &ref::make_batchnorm2d_reference);
  r.add("relu", "reference", &ref::make_relu_reference);
  r.add("add", "reference", &ref::make_add_reference);
  r.add("maxpool2d", "reference", &ref::make_maxpool2d_reference);
  r.add("global_avgpool", "reference", &ref::make_global_avgpool_reference);
  r.add("flatten", "reference", &ref::make_flatten_reference);
  r.add("linear", "reference", &ref::make_linear_reference);
  r.add("softmax_cross_entropy", "reference", &ref::make_softmax_cross_entropy_reference);
  r.add("bce_with_logits", "reference", &ref::make_bce_with_logits_reference);
}

}  // namespace cxr
