// Layer: one op on one backend. It owns its parameters, buffers and workspace, builds its
// primitives once in prepare(), and runs forward and backward as a pair (design.md).
//
// Contracts every implementation keeps (the registry sweep test checks them):
// - prepare() receives the input descriptors and returns the output descriptor. It may be
//   called again with other shapes; then it rebuilds. forward/backward allocate nothing.
// - backward() receives dy with the output's descriptor and writes dx[i] with the descriptor of
//   input i (so gradients can be summed without reorders). dx[i] == nullptr: no gradient wanted
//   for input i (the network's first conv, loss targets). backward() *overwrites* dx and the
//   parameter gradients: every parameter is used once per forward.
// - backward() may only be called after forward() in training mode on the same inputs.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace cxr {

class Backend;
class Communicator;

// A trainable tensor. `value` and `grad` share one plain-layout descriptor in backend memory.
struct Parameter {
  std::string name;   // torchvision state_dict key, e.g. "layer1.0.conv1.weight"
  std::string stage;  // "conv1" | "layer1" | ... | "fc" (core/stages.h)
  Tensor value;
  Tensor grad;
  bool trainable = true;     // false when the stage is frozen
  bool weight_decay = true;  // false for BN scale/shift and biases (recipe may switch)
};

// A plain f32 parameter (value and gradient, zero-filled) in the backend's memory.
Parameter make_parameter(Backend& backend, const std::string& name, const Shape& shape, bool weight_decay);

// A non-trainable state tensor saved with the weights (BN running_mean/var, num_batches_tracked).
// Plain layout. Counters (I64) live in host memory whatever the backend.
struct Buffer {
  std::string name;
  Tensor value;
};

// Typed op parameters. Each op defines a struct deriving from this in engine/ops/<op>.h.
struct OpParams {
  virtual ~OpParams() = default;
  virtual std::string op() const = 0;  // registry key, e.g. "conv2d"
  virtual std::unique_ptr<OpParams> clone() const = 0;
  virtual std::string str() const { return op(); }  // for error messages
};

struct PrepareInfo {
  bool training = true;
  std::vector<bool> needs_input_grad;  // one per input; empty = all true
  bool needs_grad(size_t i) const { return needs_input_grad.empty() || needs_input_grad.at(i); }
};

// Seconds spent in each node's forward and backward (`cxrtune bench --profile`), summed over
// the steps run with it; the network fills it when Context::profile points at one.
struct StepProfile {
  std::vector<double> forward_s, backward_s;  // by graph node
  double gradient_sums_s = 0;                 // adding the gradients of tensors read twice
  int64_t steps = 0;
};

// Told after each backward step which node's parameter gradients are now final, so that a
// data-parallel reducer can start allreducing them while the rest of backward runs (issue #20).
class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  virtual void gradients_ready(size_t node) = 0;
};

struct Context {
  bool training = true;
  uint64_t seed = 0;  // for stochastic layers: combine with `step` and the layer name
  int64_t step = 0;
  StepProfile* profile = nullptr;
  BackwardObserver* backward_observer = nullptr;  // null: nobody listens
  // Activation checkpointing: this training forward() is a replay in backward of one already run
  // on the same inputs (Layer::can_replay_forward). It must write the same output bits and leave
  // every buffer as the first run left it (BN: no second running-statistics update).
  bool replaying = false;
  // SyncBatchNorm (train.sync_bn, issue #20): in training, every batchnorm2d computes its
  // statistics over all ranks of this group (one allreduce in forward, one in backward), so N
  // ranks' micro-batches normalise as one batch. A communicator of its own (a duplicate of the
  // trainer's, Communicator::duplicate), because backward runs while the gradient reducer's
  // thread allreduces on the trainer's. Null, or one rank: per-micro-batch statistics.
  Communicator* batch_norm_group = nullptr;
};

class Layer;

// The state of a batchnorm2d that a producer folding it reads at every forward (conv + BN in
// eval): the BN layer's own tensors by role, never by position. Plain f32 [channels] in backend
// memory, owned by the BN layer and valid while it lives; their values may change between
// forwards (training steps, checkpoint loads), so an absorber reads them each time.
struct AbsorbedBatchNorm {
  const Tensor* weight = nullptr;  // γ
  const Tensor* bias = nullptr;    // β
  const Tensor* running_mean = nullptr;
  const Tensor* running_var = nullptr;
  double eps = 1e-5;
  bool relu = false;  // the BN applies a ReLU after itself (fuse_relu)
  int64_t channels = 0;
};

// A batchnorm layer's AbsorbedBatchNorm from its own state, found by the local names every
// batchnorm2d implementation uses ("weight", "bias", "running_mean", "running_var"; prefixed
// names "<node>.weight" also match). GraphError naming what is missing.
AbsorbedBatchNorm batchnorm_state(const std::vector<Parameter>& parameters, const std::vector<Buffer>& buffers,
                                  double eps, bool relu, int64_t channels);

// What Layer::absorb and absorb_in_training are offered: the consumer of this layer's output,
// its op, the descriptors of its other inputs in order, and its state when it is a batchnorm
// (Layer::absorbable_batchnorm).
struct AbsorbCandidate {
  const OpParams& params;
  Layer& layer;
  std::span<const TensorDesc> others;
  std::optional<AbsorbedBatchNorm> batchnorm;
};

class Layer {
 public:
  virtual ~Layer() = default;

  virtual TensorDesc prepare(std::span<const TensorDesc> inputs, const PrepareInfo& info) = 0;
  virtual void forward(std::span<const Tensor* const> x, Tensor& y, Context& ctx) = 0;
  virtual void backward(std::span<const Tensor* const> x, const Tensor& y, const Tensor& dy,
                        std::span<Tensor* const> dx, Context& ctx) = 0;

  // Which forward tensors backward() reads. The network keeps those alive until backward and
  // reuses the memory of the others (e.g. a BN output consumed only by an add). Conservative
  // default: all of them. Called after prepare().
  virtual bool backward_reads_input(size_t /*i*/) const { return true; }
  virtual bool backward_reads_output() const { return true; }
  // True when backward writes the same values into every input gradient (add: da = db). The
  // network may then pass one buffer as all of dx (equal descriptors only); the layer must
  // write it once and skip the copies when dx[i]->data() == dx[0]->data().
  virtual bool backward_input_grads_equal() const { return false; }

  // Training: may the network pass dy as two summands to backward_summed() instead of adding
  // them first (a tensor read by two consumers)? Layers that read dy once, elementwise, can add
  // on the fly and save the network a pass over memory.
  virtual bool backward_sums_dy() const { return false; }
  // backward() for dy + dy_partial (both with the output's descriptor); the same contracts.
  virtual void backward_summed(std::span<const Tensor* const> /*x*/, const Tensor& /*y*/, const Tensor& /*dy*/,
                               const Tensor& /*dy_partial*/, std::span<Tensor* const> /*dx*/, Context& /*ctx*/) {
    throw std::logic_error("backward_summed() on a layer without backward_sums_dy()");
  }

  // Training: may the network drop this layer's output after forward and recompute it in
  // backward for the consumers that read it (memory for one elementwise pass: BN+ReLU outputs
  // that feed convolutions)? Only when recompute() reproduces the forward output from the same
  // inputs and state forward saved, and backward() does not read the output itself.
  virtual bool can_recompute_output() const { return false; }
  // Writes into y what the last training forward wrote, from the same x; changes no state.
  virtual void recompute(std::span<const Tensor* const> /*x*/, Tensor& /*y*/, Context& /*ctx*/) {}

  // Training: may the network run forward() again with Context::replaying set, after this
  // layer's consumers' backward and before its own, and get the same output bits (activation
  // checkpointing: whole stages are recomputed from their kept input)? The replay sees the same
  // inputs, parameters and Context::step; whatever forward saves for backward is overwritten with
  // the same values. Default: true exactly when the layer has no buffers (forward then changes
  // no state the network saves); a layer with buffers (BN's running statistics) overrides it
  // once it leaves them alone when replaying.
  virtual bool can_replay_forward() const { return buffers_.empty(); }

  // Inference only: may this layer take over `next.layer`, the only consumer of its output, and
  // compute next(this(x), others...) itself (conv + BN folding, reading next.batchnorm; conv +
  // residual add as a post-op)? `next.others` describes next's other inputs in order; on true the
  // network appends those tensors to this layer's inputs at every forward (they are computed
  // before this layer runs), skips `next`, and next's output is this layer's. `next` keeps its
  // parameters and buffers (state, checkpoints); this layer reads them at every forward, so they
  // may change between calls. Called after both were prepared for eval; the next prepare()
  // undoes it. A layer may absorb several consumers in a chain (conv, BN, add).
  virtual bool absorb(const AbsorbCandidate& /*next*/) { return false; }

  // Training: may this layer compute next(this(x), others...) in forward, like absorb(), while
  // `next` still runs its own backward (which then reads only next's output and no input of it)
  // and this layer's backward still gets the gradient of its own output, which is never written
  // (so backward must not read it)? The network asks only layers whose output nobody else reads.
  virtual bool absorb_in_training(const AbsorbCandidate& /*next*/) { return false; }

  // A batchnorm layer's state for a producer that folds it (AbsorbCandidate::batchnorm); every
  // other layer: none. Implementations call batchnorm_state().
  virtual std::optional<AbsorbedBatchNorm> absorbable_batchnorm() const { return std::nullopt; }

  // Does forward() compute the same function of its inputs and parameters whether prepared for
  // training or for eval? Then the network may prepare it for training inside an eval network to
  // take a gradient through it (Network::backward_to). Default: true exactly when the layer has
  // no buffers (BN's running statistics are what makes its modes differ); a stochastic layer
  // without buffers (dropout) must override it to return false.
  virtual bool forward_same_in_training() const { return buffers_.empty(); }

  // Parameter and buffer names are local ("weight", "running_mean"); the network prefixes them.
  std::vector<Parameter>& parameters() { return parameters_; }
  std::vector<Buffer>& buffers() { return buffers_; }

 protected:
  std::vector<Parameter> parameters_;
  std::vector<Buffer> buffers_;
};

}  // namespace cxr
