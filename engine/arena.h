// Arena: the memory behind the network's plan (engine/network.cpp plans, this holds).
//
// Raw memory shared by short-lived tensors: activations that backward does not read, and
// gradients. Buffers are handed out by best fit over the bytes asked for and returned after their
// last reader in the plan, so forward and backward need only a few live buffers; a buffer held
// by several tensors (retain) is free after the last release. All planning happens in prepare();
// at run time the plan is followed, nothing is allocated.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/backend.h"

namespace cxr {

class Arena {
 public:
  explicit Arena(Backend& backend) : backend_(backend) {}

  int acquire(int64_t bytes) {
    int best = -1;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (free_[i] && slots_[i].bytes() >= bytes &&
          (best < 0 || slots_[i].bytes() < slots_[static_cast<size_t>(best)].bytes()))
        best = static_cast<int>(i);
    if (best < 0) {
      slots_.push_back(backend_.allocate(plain_desc({(bytes + 3) / 4}, DType::F32)));
      free_.push_back(false);
      holders_.push_back(1);
      return static_cast<int>(slots_.size() - 1);
    }
    free_[static_cast<size_t>(best)] = false;
    holders_[static_cast<size_t>(best)] = 1;
    return best;
  }
  void retain(int slot) { ++holders_[static_cast<size_t>(slot)]; }
  void release(int slot) {
    if (--holders_[static_cast<size_t>(slot)] == 0) free_[static_cast<size_t>(slot)] = true;
  }
  Tensor view(int slot, const TensorDesc& desc) const {
    return Tensor::view(desc, backend_.device(), slots_[static_cast<size_t>(slot)].data());
  }
  int64_t bytes() const {
    int64_t b = 0;
    for (const Tensor& t : slots_) b += t.bytes();
    return b;
  }

 private:
  Backend& backend_;
  std::vector<Tensor> slots_;
  std::vector<bool> free_;
  std::vector<int> holders_;
};

}  // namespace cxr
