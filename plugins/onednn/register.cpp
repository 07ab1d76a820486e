#include "plugins/onednn/register.h"

namespace cxr {

void register_onednn_layers(LayerRegistry& r) {
  r.add("conv2d", "onednn", &dnn::make_conv2d_onednn);
  r.add("batchnorm2d", "onednn", &dnn::make_batchnorm2d_onednn);
  r.add("relu", "onednn", &dnn::make_relu_onednn);
  r.add("add", "onednn", &dnn::make_add_onednn);
  r.add("maxpool2d", "onednn", &dnn::make_maxpool2d_onednn);
  r.add("global_avgpool", "onednn", &dnn::make_global_avgpool_onednn);
  r.add("flatten", "onednn", &dnn::make_flatten_onednn);
  r.add("linear", "onednn", &dnn::make_linear_onednn);
  r.add("softmax_cross_entropy", "onednn", &dnn::make_softmax_cross_entropy_onednn);
  r.add("bce_with_logits", "onednn", &dnn::make_bce_with_logits_onednn);
}

}  // namespace cxr
