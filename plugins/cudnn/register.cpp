#include "plugins/cudnn/register.h"

namespace cxr {

void register_cudnn_layers(LayerRegistry& r) {
  r.add("conv2d", "cudnn", &gpu::make_conv2d_cudnn);
  r.add("batchnorm2d", "cudnn", &gpu::make_batchnorm2d_cudnn);
  r.add("relu", "cudnn", &gpu::make_relu_cudnn);
  r.add("add", "cudnn", &gpu::make_add_cudnn);
  r.add("maxpool2d", "cudnn", &gpu::make_maxpool2d_cudnn);
  r.add("global_avgpool", "cudnn", &gpu::make_global_avgpool_cudnn);
  r.add("flatten", "cudnn", &gpu::make_flatten_cudnn);
  r.add("linear", "cudnn", &gpu::make_linear_cudnn);
  r.add("softmax_cross_entropy", "cudnn", &gpu::make_softmax_cross_entropy_cudnn);
  r.add("bce_with_logits", "cudnn", &gpu::make_bce_with_logits_cudnn);
}

}  // namespace cxr
