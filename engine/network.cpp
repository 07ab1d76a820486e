#include "engine/network.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>

#include "engine/arena.h"
#include "core/errors.h"
#include "engine/ops/add.h"

namespace cxr {

struct Network::Impl {  // NOLINT: declared in network.h
  struct BackwardStep {
    int node = 0;
    Tensor* dy = nullptr;           // null: the caller's dlogits
    std::vector<Tensor*> dx;        // per input; null = not wanted
    std::vector<std::pair<Tensor*, Tensor*>> sums;  // target += partial, after the step
    std::vector<int> recompute;     // nodes whose outputs are recomputed before the step
    const Tensor* dy_partial = nullptr;  // a second summand of dy the layer adds itself
  };

  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<TensorDesc> descs;
  std::vector<Tensor> acts;
  std::vector<bool> requires_grad;  // per node output
  std::vector<int> absorbed_by;     // per node: the node computing its forward (fusion), or -1
  std::vector<bool> absorbs;        // per node: it computes a consumer's forward too
  std::vector<std::vector<int>> extra_inputs;  // per absorber: inputs of the nodes it absorbed
  std::vector<bool> owned;          // per node output: own memory (else a view into the arena)
  std::vector<bool> recomputed;     // per node output: dropped after forward, recomputed in backward
  std::vector<Tensor> recomputed_views;  // per node: where backward finds the recomputed output
  bool recompute_outputs = true;
  bool training_fusions = true;  // fused gradient sums and training absorption
  std::vector<std::string> probe_names;
  std::vector<bool> probe;           // per node: a probe (set_probes)
  std::vector<bool> probe_backward;  // per node: backward_to() possible at this probe
  std::vector<bool> layer_training;  // per node: its layer was prepared for training
  std::vector<std::vector<bool>> downstream;  // per probe node: the nodes that read it, transitively
  bool forwarded = false;
  int gradient_at = -1;  // the probe whose gradient backward_to() filled
  Tensor input;
  Shape prepared_shape;
  bool prepared_training = false;
  bool prepared = false;

  std::unique_ptr<Arena> pool;  // the arena of short-lived tensors
  std::vector<Tensor> grad_views;     // per node, the view its output gradient lives in
  std::vector<BackwardStep> steps;
  std::deque<Tensor> partial_store;
  std::map<std::string, std::unique_ptr<Layer>> summers;  // add layers per gradient desc
  const LayerRegistry* registry = nullptr;
  Backend* backend = nullptr;
};

Network::Network(Graph graph, const LayerRegistry& registry, Backend& backend)
    : graph_(std::move(graph)), backend_(backend), impl_(std::make_unique<Impl>()) {
  impl_->registry = &registry;
  impl_->backend = &backend;
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const NodeSpec& node = graph_.nodes[i];
    for (int in : node.inputs)
      if (in != NodeSpec::kInput && (in < 0 || static_cast<size_t>(in) >= i))
        throw GraphError("node '" + node.name + "' reads node " + std::to_string(in) +
                         ", which does not come before it");
    std::unique_ptr<Layer> layer;
    try {
      layer = registry.create(*node.params, backend_);
    } catch (const GraphError& e) {
      throw GraphError("layer '" + node.name + "' (" + node.params->str() + "): " + e.what());
    }
    for (Parameter& p : layer->parameters()) {
      p.name = node.name + "." + p.name;
      p.stage = node.stage;
    }
    for (Buffer& b : layer->buffers()) b.name = node.name + "." + b.name;
    impl_->layers.push_back(std::move(layer));
  }
  if (graph_.nodes.empty()) throw GraphError("network '" + graph_.arch + "' has no nodes");
}

Network::~Network() = default;

namespace {

// The add layer of the network's own backend that sums gradient partials of one descriptor.
void summer_for(Network::Impl& m, const TensorDesc& desc) {
  const std::string key = desc.str();
  if (m.summers.count(key)) return;
  ops::AddParams params;
  auto layer = m.registry->create(params, *m.backend);
  const std::vector<TensorDesc> ins{desc, desc};
  PrepareInfo info;
  info.training = false;
  const TensorDesc out = layer->prepare(ins, info);
  if (!out.same_as(desc))
    throw GraphError("gradient sum changes the layout: " + desc.str() + " -> " + out.str());
  m.summers[key] = std::move(layer);
}

// The node whose memory holds node i's output: its absorber's (fusion), or its own.
size_t storage_of(const Network::Impl& m, size_t i) {
  return m.absorbed_by[i] >= 0 ? static_cast<size_t>(m.absorbed_by[i]) : i;
}

// An output is kept until backward when backward reads it (its own layer as y, or a consumer as
// x); every other output lives in the arena from its producer to its last consumer, and its
// memory is reused later in forward and then by gradients. In eval mode only the logits stay.
void plan_activations(Network::Impl& m, const Graph& graph, bool training) {
  const size_t n = graph.nodes.size();
  std::vector<bool> keep(n, false);
  std::vector<size_t> last_use(n, 0);  // by storage: reads of an absorbed output read its absorber's
  for (size_t i = 0; i < n; ++i) {
    const bool has_backward = m.layer_training[i] && m.requires_grad[i];
    if (has_backward && m.layers[i]->backward_reads_output()) keep[storage_of(m, i)] = true;
    const auto& inputs = graph.nodes[i].inputs;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (inputs[k] == NodeSpec::kInput) continue;
      const auto in = storage_of(m, static_cast<size_t>(inputs[k]));
      last_use[in] = i;
      if (has_backward && m.layers[i]->backward_reads_input(k)) keep[in] = true;
    }
  }
  keep[storage_of(m, n - 1)] = true;  // the logits
  for (size_t i = 0; i < n; ++i)
    if (m.probe[i]) keep[storage_of(m, i)] = true;
  // Outputs kept only for their consumers' backward that the layer can recompute from kept
  // inputs are dropped after forward instead (recomputed in backward, see prepare()).
  m.recomputed.assign(n, false);
  for (size_t i = 0; training && m.recompute_outputs && i + 1 < n; ++i) {
    if (!keep[i] || !m.layers[i]->can_recompute_output() || m.layers[i]->backward_reads_output()) continue;
    if (m.absorbed_by[i] >= 0 || m.absorbs[i] || m.probe[i]) continue;  // its storage holds another node's output
    bool inputs_kept = true;
    for (int in : graph.nodes[i].inputs)
      if (in != NodeSpec::kInput && !keep[storage_of(m, static_cast<size_t>(in))]) inputs_kept = false;
    if (!inputs_kept) continue;
    m.recomputed[i] = true;
    keep[i] = false;
  }
  m.acts.clear();
  m.acts.resize(n);
  m.owned.assign(n, false);
  std::vector<int> slot(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (m.absorbed_by[i] >= 0) {
      m.acts[i] = m.acts[storage_of(m, i)].alias();  // its inputs' last reads still end below
    } else if (keep[i]) {
      m.owned[i] = true;  // allocated in the last planning pass only
      m.acts[i] = m.pool->placed() ? m.backend->allocate(m.descs[i]) : Tensor::view(m.descs[i], m.backend->device(), nullptr);
    } else {
      slot[i] = m.pool->acquire(m.descs[i].bytes());
      m.acts[i] = m.pool->view(slot[i], m.descs[i]);
    }
    for (int input : graph.nodes[i].inputs) {
      if (input == NodeSpec::kInput) continue;
      const size_t in = storage_of(m, static_cast<size_t>(input));
      if (slot[in] >= 0 && last_use[in] == i) {
        m.pool->release(slot[in]);
        slot[in] = -1;
      }
    }
    if (slot[i] >= 0 && last_use[i] <= i) {  // nobody reads it
      m.pool->release(slot[i]);
      slot[i] = -1;
    }
  }
}

// Lets each layer take over its output's only consumer. Eval: conv + BN folding, then the
// residual add as a post-op, chaining (the absorber of a node may absorb that node's consumer
// too). Training: a BN computes the residual add (+ReLU) that follows it, while the add keeps
// its own backward; no chains, and the absorber's own output must be read by nobody's backward,
// since it is never written. Either way the consumer's other inputs must be computed before the
// absorber runs (a smaller node index) and become its extra inputs; the absorbed node keeps the
// absorber's descriptor.
void absorb_consumers(Network::Impl& m, const Graph& graph, bool training) {
  const size_t n = graph.nodes.size();
  std::vector<int> consumers(n, 0), consumer(n, -1);
  for (size_t i = 0; i < n; ++i)
    for (int in : graph.nodes[i].inputs)
      if (in != NodeSpec::kInput) ++consumers[static_cast<size_t>(in)], consumer[static_cast<size_t>(in)] = static_cast<int>(i);
  for (size_t i = 0; i < n; ++i) {
    if (consumers[i] != 1) continue;
    const auto j = static_cast<size_t>(consumer[i]);
    const size_t a = storage_of(m, i);
    if (training && (a != i || m.layers[i]->backward_reads_output())) continue;
    if (m.probe[i]) continue;  // its output must exist, and absorption would leave it unwritten
    if (!training && (m.layer_training[j] || m.layer_training[a])) continue;  // a probe's backward path
    std::vector<int> others;
    std::vector<TensorDesc> other_descs;
    bool ready = true;
    int reads_of_i = 0;
    const auto& inputs = graph.nodes[j].inputs;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const int in = inputs[k];
      if (in == static_cast<int>(i)) {
        ++reads_of_i;
        if (training && m.layers[j]->backward_reads_input(k)) ready = false;  // it would read j's output
        continue;
      }
      // The network input is always there; a node must have been computed before the absorber.
      if (in != NodeSpec::kInput && storage_of(m, static_cast<size_t>(in)) >= a) ready = false;
      others.push_back(in);
      other_descs.push_back(in == NodeSpec::kInput ? m.input.desc() : m.descs[static_cast<size_t>(in)]);
    }
    if (!ready || reads_of_i != 1) continue;
    const bool took = training ? m.layers[a]->absorb_in_training(*graph.nodes[j].params, *m.layers[j], other_descs)
                               : m.layers[a]->absorb(*graph.nodes[j].params, *m.layers[j], other_descs);
    if (!took) continue;
    if (!m.descs[j].same_as(m.descs[a]))
      throw GraphError("layer '" + graph.nodes[a].name + "' absorbed '" + graph.nodes[j].name +
                       "' but their outputs differ: " + m.descs[a].str() + " vs " + m.descs[j].str());
    m.absorbed_by[j] = static_cast<int>(a);
    m.absorbs[a] = true;
    for (int o : others) m.extra_inputs[a].push_back(o);
  }
}

// Plans backward in the same arena: node outputs' gradients live from their first writer (the
// last consumer in forward order) until their producer's backward has read them.
void plan_backward(Network::Impl& m, const Graph& graph, bool any_backward) {
  const size_t n = graph.nodes.size();
  auto grad_of = [&](int in) { return in != NodeSpec::kInput && m.requires_grad[static_cast<size_t>(in)]; };
  m.steps.clear();
  m.grad_views.clear();
  m.partial_store.clear();
  if (any_backward) {
    m.grad_views.resize(n);
    std::vector<int> slot(n, -1);
    std::vector<std::vector<size_t>> consumers(n);
    for (size_t i = 0; i < n; ++i)
      for (int in : graph.nodes[i].inputs)
        if (in != NodeSpec::kInput) consumers[static_cast<size_t>(in)].push_back(i);
    // Two gradients may share node k's buffer while both must equal k's dx: backward runs in
    // reverse node order, a gradient is last read by its producer's backward, and every other
    // consumer of one of them adds into the buffer. So each one's other consumers must run
    // after the other one's producer has read it (a smaller node index).
    auto may_share = [&](size_t a, size_t b, size_t k) {
      for (size_t c : consumers[a]) if (c != k && c >= b) return false;
      for (size_t c : consumers[b]) if (c != k && c >= a) return false;
      return true;
    };
    // Which nodes get a backward step (their output's gradient is wanted), and for each
    // recomputed output the last backward step that reads it (the smallest node index).
    std::vector<bool> has_step(n, false);
    for (size_t k = n; k-- > 0;) {
      if (!m.requires_grad[k]) continue;
      has_step[k] = k == n - 1;
      for (size_t c : consumers[k]) has_step[k] = has_step[k] || has_step[c];
    }
    std::vector<int> last_reader(n, -1), recompute_slot(n, -1);
    m.recomputed_views.clear();
    m.recomputed_views.resize(n);
    for (size_t k = 0; k < n; ++k) {
      if (!has_step[k]) continue;
      const auto& inputs = graph.nodes[k].inputs;
      for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i] != NodeSpec::kInput && m.recomputed[static_cast<size_t>(inputs[i])] &&
            m.layers[k]->backward_reads_input(i) && last_reader[static_cast<size_t>(inputs[i])] < 0)
          last_reader[static_cast<size_t>(inputs[i])] = static_cast<int>(k);
    }
    std::vector<int> partial_slots;
    // A gradient with two writers whose producer adds two summands itself (the residual add:
    // its masked ReLU backward reads both) keeps the second one apart until that producer's step
    // instead of being summed into the first: one pass over the tensor less.
    std::vector<const Tensor*> deferred(n, nullptr);
    std::vector<int> deferred_slot(n, -1);
    m.steps.reserve(n);
    for (size_t k = n; k-- > 0;) {
      if (!has_step[k]) continue;  // nothing downstream needs this output's gradient
      Network::Impl::BackwardStep step;
      step.node = static_cast<int>(k);
      step.dy = (k == n - 1) ? nullptr : &m.grad_views[k];
      step.dy_partial = deferred[k];
      partial_slots.clear();
      // A recomputed input comes back before its first reader in backward (the largest index).
      const auto& inputs = graph.nodes[k].inputs;
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i] == NodeSpec::kInput) continue;
        const auto j = static_cast<size_t>(inputs[i]);
        if (!m.recomputed[j] || !m.layers[k]->backward_reads_input(i) || recompute_slot[j] >= 0) continue;
        recompute_slot[j] = m.pool->acquire(m.descs[j].bytes());
        m.recomputed_views[j] = m.pool->view(recompute_slot[j], m.descs[j]);
        step.recompute.push_back(static_cast<int>(j));
      }
      // A layer whose input gradients are all equal (add) writes one buffer for every input
      // whose gradient starts here with that descriptor (the residual add: no copy of dy).
      int shared_slot = -1, shared_node = -1;
      const TensorDesc* shared_desc = nullptr;
      const bool equal_grads = m.layers[k]->backward_input_grads_equal();
      for (int in : graph.nodes[k].inputs) {
        if (!grad_of(in)) {
          step.dx.push_back(nullptr);
          continue;
        }
        const auto j = static_cast<size_t>(in);  // NOLINT: in >= 0 here
        if (slot[j] < 0 && equal_grads && shared_desc && shared_desc->same_as(m.descs[j]) && !m.probe[j] &&
            may_share(static_cast<size_t>(shared_node), j, k)) {
          slot[j] = shared_slot;
          m.pool->retain(shared_slot);
          m.grad_views[j] = m.pool->view(slot[j], m.descs[j]);
          step.dx.push_back(&m.grad_views[j]);
        } else if (slot[j] < 0) {
          slot[j] = m.pool->acquire(m.descs[j].bytes());
          m.grad_views[j] = m.pool->view(slot[j], m.descs[j]);
          step.dx.push_back(&m.grad_views[j]);
          if (equal_grads && !shared_desc && !m.probe[j]) shared_slot = slot[j], shared_node = in, shared_desc = &m.descs[j];
        } else {
          const int s = m.pool->acquire(m.descs[j].bytes());
          m.partial_store.push_back(m.pool->view(s, m.descs[j]));
          step.dx.push_back(&m.partial_store.back());
          if (m.training_fusions && deferred_slot[j] < 0 && !m.probe[j] && m.layers[j]->backward_sums_dy()) {
            deferred_slot[j] = s;
            deferred[j] = &m.partial_store.back();
          } else {
            partial_slots.push_back(s);
            step.sums.emplace_back(&m.grad_views[j], &m.partial_store.back());
            summer_for(m, m.descs[j]);
          }
        }
      }
      for (int s : partial_slots) m.pool->release(s);
      for (int in : inputs)
        if (in != NodeSpec::kInput && last_reader[static_cast<size_t>(in)] == static_cast<int>(k) &&
            recompute_slot[static_cast<size_t>(in)] >= 0) {
          m.pool->release(recompute_slot[static_cast<size_t>(in)]);
          recompute_slot[static_cast<size_t>(in)] = -1;
        }
      if (k != n - 1) m.pool->release(slot[k]);
      if (deferred_slot[k] >= 0) m.pool->release(deferred_slot[k]);
      m.steps.push_back(std::move(step));
    }
  }
}

// Probes and the layers downstream of them. In training every layer is prepared for training.
// In eval, a probe can take a gradient when every layer downstream of it computes the same
// forward in both modes; those layers are then prepared for training (their backward exists).
void mark_probes(Network::Impl& m, const Graph& graph, bool training) {
  const size_t n = graph.nodes.size();
  m.probe.assign(n, false);
  m.probe_backward.assign(n, false);
  m.layer_training.assign(n, training);
  m.downstream.assign(n, {});
  for (const std::string& name : m.probe_names)
    for (size_t i = 0; i < n; ++i)
      if (graph.nodes[i].name == name) m.probe[i] = true;
  for (size_t p = 0; p < n; ++p) {
    if (!m.probe[p]) continue;
    std::vector<bool> down(n, false);
    bool same = true;
    for (size_t k = p + 1; k < n; ++k) {
      for (int in : graph.nodes[k].inputs)
        if (in != NodeSpec::kInput && (static_cast<size_t>(in) == p || down[static_cast<size_t>(in)])) down[k] = true;
      if (down[k] && !m.layers[k]->forward_same_in_training()) same = false;
    }
    m.probe_backward[p] = training || same;
    if (!training && same)
      for (size_t k = 0; k < n; ++k)
        if (down[k]) m.layer_training[k] = true;
    m.downstream[p] = std::move(down);
  }
}

size_t probe_index(const Network::Impl& m, const Graph& graph, const std::string& name, const char* what) {
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].name == name) {
      if (i < m.probe.size() && m.probe[i]) return i;
      break;
    }
  throw GraphError("network '" + graph.arch + "': " + what + "('" + name +
                   "'): not a probe of the prepared network (set_probes, then prepare)");
}

using clock = std::chrono::steady_clock;
double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

}  // namespace

void Network::prepare(const Shape& input_shape, bool training) {
  Impl& m = *impl_;
  if (m.prepared && m.prepared_shape == input_shape && m.prepared_training == training) return;
  const size_t n = graph_.nodes.size();
  m.input = backend_.allocate(plain_desc(input_shape));
  m.descs.assign(n, TensorDesc{});
  m.requires_grad.assign(n, false);
  m.forwarded = false;
  m.gradient_at = -1;
  mark_probes(m, graph_, training);

  auto desc_of = [&](int in) -> const TensorDesc& {
    return in == NodeSpec::kInput ? m.input.desc() : m.descs[static_cast<size_t>(in)];
  };
  auto grad_of = [&](int in) { return in != NodeSpec::kInput && m.requires_grad[static_cast<size_t>(in)]; };

  for (size_t i = 0; i < n; ++i) {
    const NodeSpec& node = graph_.nodes[i];
    std::vector<TensorDesc> in_descs;
    PrepareInfo info;
    info.training = m.layer_training[i];
    bool any = false;
    for (int in : node.inputs) {
      in_descs.push_back(desc_of(in));
      info.needs_input_grad.push_back(info.training && grad_of(in));
      any = any || grad_of(in);
    }
    for (const Parameter& p : m.layers[i]->parameters()) any = any || p.trainable;
    // A probe's gradient is wanted even when nothing below it trains (frozen stages).
    m.requires_grad[i] = (info.training && any) || m.probe_backward[i];
    try {
      m.descs[i] = m.layers[i]->prepare(in_descs, info);
    } catch (const GraphError& e) {
      throw GraphError("layer '" + node.name + "' (" + node.params->str() + "): " + e.what());
    }
  }

  m.absorbed_by.assign(n, -1);
  m.absorbs.assign(n, false);
  m.extra_inputs.assign(n, {});
  if (!training || m.training_fusions) absorb_consumers(m, graph_, training);
  // Two planning passes over one arena: the first records every buffer's lifetime, place()
  // lays them out in one block, the second hands out the views (see arena.h).
  m.pool = std::make_unique<Arena>(*m.backend);
  for (int pass = 0; pass < 2; ++pass) {
    plan_activations(m, graph_, training);
    plan_backward(m, graph_, training || std::find(m.probe_backward.begin(), m.probe_backward.end(), true) != m.probe_backward.end());
    if (pass == 0) m.pool->place();
  }
  m.prepared_shape = input_shape;
  m.prepared_training = training;
  m.prepared = true;
}


Tensor& Network::input() {
  if (!impl_->prepared) throw GraphError("network '" + graph_.arch + "': input() before prepare()");
  return impl_->input;
}

const Tensor& Network::forward(Context& ctx) {
  Impl& m = *impl_;
  if (!m.prepared) throw GraphError("network '" + graph_.arch + "': forward() before prepare()");
  if (ctx.training && !m.prepared_training)
    throw GraphError("network '" + graph_.arch + "': training forward on a network prepared for eval");
  std::vector<const Tensor*> xs;
  StepProfile* profile = ctx.profile;
  if (profile) profile->forward_s.resize(graph_.nodes.size()), ++profile->steps;
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (m.absorbed_by[i] >= 0) continue;  // computed by the layer that absorbed it
    xs.clear();
    for (const auto* inputs : {&graph_.nodes[i].inputs, &m.extra_inputs[i]})
      for (int in : *inputs) xs.push_back(in == NodeSpec::kInput ? &m.input : &m.acts[static_cast<size_t>(in)]);
    const auto t0 = profile ? clock::now() : clock::time_point{};
    if (m.layer_training[i] && !m.prepared_training) {  // downstream of a probe in an eval network
      Context as_trained = ctx;
      as_trained.training = true;
      m.layers[i]->forward(xs, m.acts[i], as_trained);
    } else {
      m.layers[i]->forward(xs, m.acts[i], ctx);
    }
    if (profile) backend_.synchronize(), profile->forward_s[i] += seconds_since(t0);
  }
  m.forwarded = true;
  m.gradient_at = -1;
  return m.acts.back();
}

namespace {

void check_dlogits(const Network::Impl& m, const Graph& graph, const Tensor& dlogits) {
  if (!dlogits.desc().same_as(m.descs.back()))
    throw GraphError("network '" + graph.arch + "': dlogits " + dlogits.desc().str() +
                     " does not match the logits " + m.descs.back().str());
}

// Runs the planned backward steps for which `run(node)` is true, in plan order.
template <class Run>
void run_steps(Network::Impl& m, const Graph& graph, const Tensor& dlogits, Context& ctx, Run&& run) {
  std::vector<const Tensor*> xs;
  StepProfile* profile = ctx.profile;
  if (profile) profile->backward_s.resize(graph.nodes.size());
  auto inputs_of = [&](size_t node) {
    xs.clear();
    for (int in : graph.nodes[node].inputs) {
      const auto j = static_cast<size_t>(in);
      xs.push_back(in == NodeSpec::kInput ? &m.input : m.recomputed[j] ? &m.recomputed_views[j] : &m.acts[j]);
    }
  };
  for (const Network::Impl::BackwardStep& step : m.steps) {
    const auto i = static_cast<size_t>(step.node);
    if (!run(i)) continue;
    for (int r : step.recompute) {
      const auto j = static_cast<size_t>(r);
      const auto t0 = profile ? clock::now() : clock::time_point{};
      inputs_of(j);
      m.layers[j]->recompute(xs, m.recomputed_views[j], ctx);
      if (profile) m.backend->synchronize(), profile->backward_s[j] += seconds_since(t0);
    }
    inputs_of(i);
    auto t0 = profile ? clock::now() : clock::time_point{};
    const Tensor& dy = step.dy ? *step.dy : dlogits;
    if (step.dy_partial)
      m.layers[i]->backward_summed(xs, m.acts[i], dy, *step.dy_partial, step.dx, ctx);
    else
      m.layers[i]->backward(xs, m.acts[i], dy, step.dx, ctx);
    if (profile) m.backend->synchronize(), profile->backward_s[i] += seconds_since(t0), t0 = clock::now();
    for (const auto& [target, partial] : step.sums) {
      const Tensor* both[2] = {target, partial};
      m.summers.at(target->desc().str())->forward(both, *target, ctx);
    }
    if (profile && !step.sums.empty()) m.backend->synchronize(), profile->gradient_sums_s += seconds_since(t0);
  }
}

std::vector<float> read_plain(Backend& backend, const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  backend.read_plain(t, out.data());
  return out;
}

}  // namespace

void Network::backward(const Tensor& dlogits, Context& ctx) {
  Impl& m = *impl_;
  if (!m.prepared || !m.prepared_training)
    throw GraphError("network '" + graph_.arch + "': backward() needs prepare(shape, training=true)");
  check_dlogits(m, graph_, dlogits);
  m.gradient_at = -1;
  run_steps(m, graph_, dlogits, ctx, [](size_t) { return true; });
}

void Network::set_probes(const std::vector<std::string>& node_names) {
  for (const std::string& name : node_names)
    if (!layer(name)) throw GraphError("network '" + graph_.arch + "': no node named '" + name + "' to probe");
  impl_->probe_names = node_names;
  impl_->prepared = false;
}

const Tensor& Network::output_of(const std::string& node_name) const {
  const size_t p = probe_index(*impl_, graph_, node_name, "output_of");
  if (!impl_->prepared || !impl_->forwarded)
    throw GraphError("network '" + graph_.arch + "': output_of('" + node_name + "') before forward()");
  return impl_->acts[p];
}

std::vector<float> Network::output_plain(const std::string& node_name) {
  return read_plain(backend_, output_of(node_name));
}

void Network::backward_to(const std::string& node_name, const Tensor& dlogits, Context& ctx) {
  Impl& m = *impl_;
  const size_t p = probe_index(m, graph_, node_name, "backward_to");
  if (!m.prepared || !m.forwarded)
    throw GraphError("network '" + graph_.arch + "': backward_to('" + node_name + "') before forward()");
  if (!m.probe_backward[p])
    throw GraphError("network '" + graph_.arch + "': backward_to('" + node_name + "') in eval: a layer after it " +
                     "computes differently in training and eval (batchnorm); prepare(shape, training=true) for it");
  check_dlogits(m, graph_, dlogits);
  Context as_trained = ctx;
  as_trained.training = true;
  run_steps(m, graph_, dlogits, as_trained, [&](size_t node) { return m.downstream[p][node]; });
  m.gradient_at = static_cast<int>(p);
}

const Tensor& Network::input_gradient_at(const std::string& node_name) const {
  const size_t p = probe_index(*impl_, graph_, node_name, "input_gradient_at");
  if (impl_->gradient_at != static_cast<int>(p))
    throw GraphError("network '" + graph_.arch + "': input_gradient_at('" + node_name +
                     "') without a backward_to() to it since the last forward()");
  return impl_->grad_views[p];
}

std::vector<float> Network::input_gradient_plain(const std::string& node_name) {
  return read_plain(backend_, input_gradient_at(node_name));
}

std::vector<Parameter*> Network::parameters() {
  std::vector<Parameter*> out;
  for (auto& layer : impl_->layers)
    for (Parameter& p : layer->parameters()) out.push_back(&p);
  return out;
}

std::vector<StateEntry> Network::state() {
  std::vector<StateEntry> out;
  for (auto& layer : impl_->layers) {
    for (Parameter& p : layer->parameters()) out.push_back({p.name, p.stage, &p.value, &p});
    const std::string stage = layer->parameters().empty() ? "" : layer->parameters()[0].stage;
    for (Buffer& b : layer->buffers()) out.push_back({b.name, stage, &b.value, nullptr});
  }
  return out;
}

Layer* Network::layer(const std::string& node_name) {
  for (size_t i = 0; i < graph_.nodes.size(); ++i)
    if (graph_.nodes[i].name == node_name) return impl_->layers[i].get();
  return nullptr;
}

const TensorDesc& Network::output_desc(size_t node) const { return impl_->descs.at(node); }

void Network::set_recompute_outputs(bool on) {
  if (impl_->recompute_outputs == on) return;
  impl_->recompute_outputs = on;
  impl_->prepared = false;
}

void Network::set_training_fusions(bool on) {
  if (impl_->training_fusions == on) return;
  impl_->training_fusions = on;
  impl_->prepared = false;
}

Network::ActivationMemory Network::activation_memory() const {
  // Views into the arena are counted once, through the arena.
  ActivationMemory m;
  m.input = impl_->input.bytes();
  m.arena = impl_->pool ? impl_->pool->bytes() : 0;
  for (size_t i = 0; i < impl_->acts.size(); ++i)
    if (impl_->owned[i]) m.kept += impl_->acts[i].bytes();
  return m;
}

}  // namespace cxr
