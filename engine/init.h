// Fresh initialisation as torchvision's ResNet constructor does it: convolutions
// kaiming_normal_(mode="fan_out", nonlinearity="relu"), BN weight 1 and bias 0, running stats
// 0/1, Linear as nn.Linear (weight and bias uniform in ±1/sqrt(fan_in)). Same distributions as
// PyTorch, not the same random numbers (PyTorch's generator is not reproduced).
#pragma once
#include <cstdint>
#include <string>

#include "engine/network.h"

namespace cxr {

void init_torchvision(Network& net, uint64_t seed);

// Re-initialises only the nodes of one module prefix ("fc"), e.g. when a pretrained head is
// replaced because num_classes differs.
void init_torchvision_module(Network& net, const std::string& module, uint64_t seed);

}  // namespace cxr
