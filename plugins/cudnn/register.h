// The cuDNN backend's layers (one class per op, each in its own file), registered under "cudnn".
#pragma once
#include <memory>

#include "engine/layer_registry.h"

namespace cxr {

void register_cudnn_layers(LayerRegistry& registry);

namespace gpu {
std::unique_ptr<Layer> make_conv2d_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_batchnorm2d_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_relu_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_add_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_maxpool2d_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_global_avgpool_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_flatten_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_linear_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_softmax_cross_entropy_cudnn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_bce_with_logits_cudnn(const OpParams&, Backend&);
}  // namespace gpu

}  // namespace cxr
