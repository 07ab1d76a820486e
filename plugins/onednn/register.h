// The oneDNN backend's layers (one class per op, each in its own file).
#pragma once
#include <memory>

#include "engine/layer_registry.h"

namespace cxr {

void register_onednn_layers(LayerRegistry& registry);

namespace dnn {
std::unique_ptr<Layer> make_conv2d_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_batchnorm2d_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_relu_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_add_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_maxpool2d_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_global_avgpool_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_flatten_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_linear_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_softmax_cross_entropy_onednn(const OpParams&, Backend&);
std::unique_ptr<Layer> make_bce_with_logits_onednn(const OpParams&, Backend&);
}  // namespace dnn

}  // namespace cxr
