// The reference backend's layers: plain loops in double, the truth for every test.
#pragma once
#include <memory>

#include "engine/layer_registry.h"

namespace cxr {

void register_reference_layers(LayerRegistry& registry);

namespace ref {
std::unique_ptr<Layer> make_conv2d_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_batchnorm2d_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_relu_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_add_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_maxpool2d_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_global_avgpool_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_flatten_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_linear_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_softmax_cross_entropy_reference(const OpParams&, Backend&);
std::unique_ptr<Layer> make_bce_with_logits_reference(const OpParams&, Backend&);
}  // namespace ref

}  // namespace cxr
