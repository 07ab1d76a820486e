// Network: a Graph instantiated on one backend. Owns the layers, the activations and a gradient
// memory plan; builds everything in prepare() and allocates nothing in forward()/backward().
//
// Use:
//   Network net(graph, registry, backend);
//   net.prepare({N, C, H, W}, /*training=*/true);
//   backend.write_plain(net.input(), host_batch);   // or write into it directly on the CPU
//   const Tensor& logits = net.forward(ctx);         // plain [N, K] in backend memory
//   net.backward(dlogits, ctx);                      // dlogits: plain [N, K] in backend memory
//   for (Parameter* p : net.parameters()) ...        // grads filled (overwritten)
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/graph.h"
#include "engine/layer.h"
#include "engine/layer_registry.h"

namespace cxr {

// One entry of the network's state in torchvision state_dict order.
struct StateEntry {
  std::string name;  // "layer1.0.bn1.running_mean"
  std::string stage;
  Tensor* value;      // plain layout; backend memory (I64 counters: host memory)
  Parameter* param;   // null for buffers
};

class Network {
 public:
  Network(Graph graph, const LayerRegistry& registry, Backend& backend);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Builds primitives and buffers for an input of `input_shape` ([N, C, H, W]). Cheap when the
  // shape and mode are unchanged. training=false builds no backward and no gradient buffers.
  void prepare(const Shape& input_shape, bool training);

  Tensor& input();  // plain [N, C, H, W] f32 in backend memory, written by the caller
  const Tensor& forward(Context& ctx);
  // Gradients of every trainable parameter for the given d(loss)/d(logits).
  void backward(const Tensor& dlogits, Context& ctx);

  std::vector<Parameter*> parameters();  // state_dict order
  std::vector<StateEntry> state();       // parameters and buffers, state_dict order
  const Graph& graph() const { return graph_; }
  Backend& backend() { return backend_; }
  // Layer of a node by name (tests, plugins); null if absent.
  Layer* layer(const std::string& node_name);
  // Training memory plan: outputs that layers can recompute cheaply (BN+ReLU feeding a conv)
  // are dropped after forward and recomputed in backward (on by default). Takes effect at
  // the next prepare(); gradients are the same either way (tests compare them).
  void set_recompute_outputs(bool on);
  // Training fusions (on by default): a BN computes the residual add (+ReLU) after it in one
  // pass (Layer::absorb_in_training), and a gradient written by two consumers is handed to its
  // producer as two summands when that layer adds them itself (backward_sums_dy: the residual
  // add) instead of being summed first. Takes effect at the next prepare(); tests compare both.
  void set_training_fusions(bool on);
  // Output of a node after prepare() (its layout as the backend chose it).
  const TensorDesc& output_desc(size_t node) const;
  // Bytes of activations and gradient buffers held after prepare() (the memory plan's result),
  // by kind: the input batch, outputs kept for backward, and the arena of short-lived outputs
  // and gradients.
  struct ActivationMemory {
    int64_t input = 0, kept = 0, arena = 0;
  };
  ActivationMemory activation_memory() const;

  struct Impl;  // implementation detail (network.cpp)

 private:
  Graph graph_;
  Backend& backend_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cxr
