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
  // Activation checkpointing (training): each stage named here is replayed block by block (one
  // segment per residual block, one for the stem: plan_segments.h block_segments). A block keeps
  // after forward only its input (in the arena until its backward has read it); the outputs its
  // backward needs are made again by running the block's forward once more (Context::replaying)
  // just before its first backward step, so gradients and BN running statistics are the same
  // bits, for one more forward of those stages per step (plan_memory.h has the rules). Takes
  // effect at the next prepare(); a stage the graph does not have is a GraphError. Default: none.
  void set_checkpointed_stages(const std::vector<std::string>& stages);
  const std::vector<std::string>& checkpointed_stages() const;
  // Eval fusions (on by default): a layer computes its only consumer's forward too
  // (Layer::absorb: conv + BN folding, conv + residual add). Off: every node runs its own
  // forward. Takes effect at the next prepare(); the outputs are the same within rounding.
  void set_eval_fusions(bool on);
  // Probes (Grad-CAM, feature maps): the nodes named here keep their output intact after
  // forward() (own memory, never recomputed, never left unwritten by a fused neighbour), and a
  // gradient can be taken at them from the logits with backward_to(). Takes effect at the next
  // prepare(); an unknown name is a GraphError. Everything else about the plan is unchanged.
  void set_probes(const std::vector<std::string>& node_names);
  // The probe's output of the last forward(), in the backend's layout; backend().read_plain()
  // (or output_plain) gives it row-major ([N, C, H, W] for a ResNet stage). Valid until the next
  // forward() or prepare(). GraphError if the node is not a probe or forward() has not run.
  const Tensor& output_of(const std::string& node_name) const;
  std::vector<float> output_plain(const std::string& node_name);
  // Backward from the logits down to the probe's output only: with dlogits = d(s)/d(logits)
  // (plain [N, K] in backend memory; a one-hot row per sample for Grad-CAM's s = logit_c), fills
  // input_gradient_at(node) = d(s)/d(output of node) for the last forward(). Runs the backward
  // of the layers downstream of the node and nothing below it: no layer at or before the node
  // runs, so no gradient of their parameters is computed; the downstream layers (for a ResNet
  // stage: avgpool, flatten, fc) still write their own parameter gradients as a by-product,
  // overwriting what backward() left there.
  // - After prepare(shape, training=true): the gradient of the training forward (BN with batch
  //   statistics), the same as backward() computes at that node (the probe takes part in no
  //   gradient-sum fusion).
  // - After prepare(shape, training=false): the gradient of the eval forward (BN with running
  //   statistics). The layers downstream of a probe are then prepared for training so that
  //   their backward exists, run as training layers and are not fused; this is exact only for
  //   layers whose forward does not depend on the mode (Layer::forward_same_in_training()), so
  //   if any downstream layer's does (a BN after the probe), prepare() keeps the eval plan for
  //   it and backward_to() is a GraphError saying to prepare for training. Layers before the
  //   probe keep every eval fusion (conv absorbs BN and the residual add).
  // The gradient is valid until the next forward(), backward() or prepare().
  void backward_to(const std::string& node_name, const Tensor& dlogits, Context& ctx);
  const Tensor& input_gradient_at(const std::string& node_name) const;  // the probe's layout
  std::vector<float> input_gradient_plain(const std::string& node_name);
  // Output of a node after prepare() (its layout as the backend chose it).
  const TensorDesc& output_desc(size_t node) const;
  // Bytes of activations and gradient buffers held after prepare() (the memory plan's result),
  // by kind: the input batch, outputs kept for backward, and the arena of short-lived outputs
  // and gradients.
  struct ActivationMemory {
    int64_t input = 0, kept = 0, arena = 0;
  };
  ActivationMemory activation_memory() const;
  // The same figures for a training plan for `input_shape` with `stages` checkpointed, planned
  // without allocating activations: for choosing stages under a memory budget. Prepares the
  // layers for that shape and frees the bound plan; the next prepare() plans and binds again.
  ActivationMemory planned_activation_memory(const Shape& input_shape, const std::vector<std::string>& stages);

  struct Impl;  // implementation detail (network.cpp)

 private:
  Graph graph_;
  Backend& backend_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cxr
