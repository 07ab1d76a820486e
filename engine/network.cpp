// The network executes the planner's passes (plan_liveness → plan_fusion → plan_memory): it
// prepares the layers, hands the passes what it learned from them, allocates what the plan asks
// for, and runs forward and backward along it. No planning decision is made here.
#include "engine/network.h"

#include <chrono>

#include "core/errors.h"
#include "engine/network_impl.h"
#include "engine/ops/add.h"
#include "engine/plan_segments.h"

namespace cxr {

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

using clock = std::chrono::steady_clock;
double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

// The add layer of the network's own backend that sums gradient partials of one descriptor.
Layer& summer_for(Network::Impl& m, const TensorDesc& desc) {
  const std::string key = desc.str();
  auto it = m.summers.find(key);
  if (it != m.summers.end()) return *it->second;
  ops::AddParams params;
  auto layer = m.registry->create(params, *m.backend);
  const std::vector<TensorDesc> ins{desc, desc};
  PrepareInfo info;
  info.training = false;
  const TensorDesc out = layer->prepare(ins, info);
  if (!out.same_as(desc))
    throw GraphError("gradient sum changes the layout: " + desc.str() + " -> " + out.str());
  return *(m.summers[key] = std::move(layer));
}

// Prepares every layer in order and records what the passes need to know of it.
void prepare_layers(Network::Impl& m, const Graph& graph) {
  const size_t n = graph.nodes.size();
  m.descs.assign(n, TensorDesc{});
  m.nodes.assign(n, PlanNode{});
  auto grad_of = [&](int in) { return in != NodeSpec::kInput && m.nodes[static_cast<size_t>(in)].requires_grad; };
  for (size_t i = 0; i < n; ++i) {
    const NodeSpec& spec = graph.nodes[i];
    Layer& layer = *m.layers[i];
    PlanNode& node = m.nodes[i];
    node.inputs = spec.inputs;
    node.trains = m.probes.layer_training[i];
    node.probe = m.probes.probe[i];
    std::vector<TensorDesc> in_descs;
    PrepareInfo info;
    info.training = node.trains;
    bool any = false;
    for (int in : spec.inputs) {
      in_descs.push_back(in == NodeSpec::kInput ? m.input.desc() : m.descs[static_cast<size_t>(in)]);
      info.needs_input_grad.push_back(info.training && grad_of(in));
      any = any || grad_of(in);
    }
    for (const Parameter& p : layer.parameters()) any = any || p.trainable;
    // A probe's gradient is wanted even when nothing below it trains (frozen stages).
    node.requires_grad = (info.training && any) || m.probes.backward[i];
    try {
      m.descs[i] = layer.prepare(in_descs, info);
    } catch (const GraphError& e) {
      throw GraphError("layer '" + spec.name + "' (" + spec.params->str() + "): " + e.what());
    }
    node.bytes = m.descs[i].bytes();
    node.backward_reads_output = layer.backward_reads_output();
    for (size_t k = 0; k < spec.inputs.size(); ++k) node.backward_reads_input.push_back(layer.backward_reads_input(k));
    node.can_recompute = layer.can_recompute_output();
    node.can_replay = layer.can_replay_forward();
    node.input_grads_equal = layer.backward_input_grads_equal();
    node.sums_dy = layer.backward_sums_dy();
  }
}

// Fusion: the layers answer; the absorbed node must keep the absorber's descriptor.
FusionPlan plan_fusions(Network::Impl& m, const Graph& graph, bool training) {
  FusionOptions options;
  options.training = training;
  options.absorb = training ? m.training_fusions : m.eval_fusions;
  options.producer_sums = m.training_fusions;
  auto try_absorb = [&](size_t a, size_t j, const std::vector<int>& others) {
    std::vector<TensorDesc> other_descs;
    for (int o : others) other_descs.push_back(o == NodeSpec::kInput ? m.input.desc() : m.descs[static_cast<size_t>(o)]);
    AbsorbCandidate next{*graph.nodes[j].params, *m.layers[j], other_descs, m.layers[j]->absorbable_batchnorm()};
    const bool took = training ? m.layers[a]->absorb_in_training(next) : m.layers[a]->absorb(next);
    if (took && !m.descs[j].same_as(m.descs[a]))
      throw GraphError("layer '" + graph.nodes[a].name + "' absorbed '" + graph.nodes[j].name +
                       "' but their outputs differ: " + m.descs[a].str() + " vs " + m.descs[j].str());
    return took;
  };
  return plan_fusion(m.nodes, m.liveness, options, try_absorb);
}

// Memory for the plan: the arena block, own memory for kept outputs, views for the rest, and
// every backward step's tensors.
void bind_plan(Network::Impl& m) {
  const size_t n = m.nodes.size();
  const int64_t bytes = m.memory.arena.bytes();
  m.block = bytes > 0 ? m.backend->allocate(plain_desc({bytes / 4}, DType::F32)) : Tensor();
  for (auto* v : {&m.acts, &m.grads, &m.recomputed, &m.replayed}) v->clear(), v->resize(n);
  m.partials.clear();
  m.steps.clear();
  for (size_t i = 0; i < n; ++i) {
    if (m.fusion.absorbed_by[i] >= 0) m.acts[i] = m.acts[m.fusion.storage_of(i)].alias();
    else if (m.memory.kept[i]) m.acts[i] = m.backend->allocate(m.descs[i]);
    else m.acts[i] = m.view(m.memory.act_buffer[i], m.descs[i]);
    if (m.memory.grad_buffer[i] >= 0) m.grads[i] = m.view(m.memory.grad_buffer[i], m.descs[i]);
    if (m.memory.recompute_buffer[i] >= 0) m.recomputed[i] = m.view(m.memory.recompute_buffer[i], m.descs[i]);
    if (m.memory.replay_buffer[i] >= 0) m.replayed[i] = m.view(m.memory.replay_buffer[i], m.descs[i]);
  }
  auto target = [&](const GradTarget& t) -> Tensor* {
    if (t.node < 0) return nullptr;
    const auto j = static_cast<size_t>(t.node);
    if (!t.partial) return &m.grads[j];
    m.partials.push_back(m.view(t.buffer, m.descs[j]));
    return &m.partials.back();
  };
  for (const StepPlan& s : m.memory.steps) {
    Network::Impl::StepRun run;
    run.node = static_cast<size_t>(s.node);
    run.dy = s.dy_buffer < 0 ? nullptr : &m.grads[run.node];
    if (s.dy_partial_buffer >= 0) {
      m.partials.push_back(m.view(s.dy_partial_buffer, m.descs[run.node]));
      run.dy_partial = &m.partials.back();
    }
    for (const GradTarget& t : s.dx) run.dx.push_back(target(t));
    for (const GradTarget& t : s.sums) {  // the partial is the one this step's dx wrote
      const Tensor* partial = nullptr;
      for (size_t k = 0; k < s.dx.size(); ++k)
        if (s.dx[k].buffer == t.buffer && s.dx[k].partial) partial = run.dx[k];
      summer_for(m, m.descs[static_cast<size_t>(t.node)]);
      run.sums.emplace_back(&m.grads[static_cast<size_t>(t.node)], partial);
    }
    run.replay = s.replay;
    run.recompute = s.recompute;
    m.steps.push_back(std::move(run));
  }
}

}  // namespace

void run_backward_steps(Network::Impl& m, const Graph& graph, const Tensor& dlogits, Context& ctx,
                        const std::vector<bool>* only) {
  std::vector<const Tensor*> xs;
  StepProfile* profile = ctx.profile;
  if (profile) profile->backward_s.resize(graph.nodes.size());
  // Where backward finds a node's output: recomputed (or replayed), or as forward left it.
  auto output_of = [&](size_t j) -> Tensor& { return m.memory.recomputed[j] ? m.recomputed[j] : m.acts[j]; };
  auto add_inputs = [&](const std::vector<int>& inputs) {
    for (int in : inputs) xs.push_back(in == NodeSpec::kInput ? &m.input : &output_of(static_cast<size_t>(in)));
  };
  // A replay reads what it wrote itself, and kept outputs.
  auto add_replay_inputs = [&](const std::vector<int>& inputs) {
    for (int in : inputs) {
      const auto j = static_cast<size_t>(in);
      xs.push_back(in == NodeSpec::kInput ? &m.input : m.memory.replay_buffer[j] >= 0 ? &m.replayed[j] : &m.acts[j]);
    }
  };
  auto inputs_of = [&](size_t node) {
    xs.clear();
    add_inputs(graph.nodes[node].inputs);
  };
  Context replay = ctx;
  replay.training = replay.replaying = true;
  for (const Network::Impl::StepRun& step : m.steps) {
    const size_t i = step.node;
    // A checkpointed segment's forward again, even before a step that `only` skips: a later
    // step may read what it writes.
    for (int r : step.replay) {
      const auto j = static_cast<size_t>(r);
      const auto t0 = profile ? clock::now() : clock::time_point{};
      xs.clear();
      add_replay_inputs(graph.nodes[j].inputs);
      add_replay_inputs(m.fusion.extra_inputs[j]);
      m.layers[j]->forward(xs, m.replayed[j], replay);
      if (profile) m.backend->synchronize(), profile->backward_s[j] += seconds_since(t0);
    }
    if (only && !(*only)[i]) continue;
    for (int r : step.recompute) {
      const auto j = static_cast<size_t>(r);
      const auto t0 = profile ? clock::now() : clock::time_point{};
      inputs_of(j);
      m.layers[j]->recompute(xs, m.recomputed[j], ctx);
      if (profile) m.backend->synchronize(), profile->backward_s[j] += seconds_since(t0);
    }
    inputs_of(i);
    auto t0 = profile ? clock::now() : clock::time_point{};
    const Tensor& dy = step.dy ? *step.dy : dlogits;
    if (step.dy_partial)
      m.layers[i]->backward_summed(xs, output_of(i), dy, *step.dy_partial, step.dx, ctx);
    else
      m.layers[i]->backward(xs, output_of(i), dy, step.dx, ctx);
    if (profile) m.backend->synchronize(), profile->backward_s[i] += seconds_since(t0), t0 = clock::now();
    for (const auto& [target, partial] : step.sums) {
      const Tensor* both[2] = {target, partial};
      m.summers.at(target->desc().str())->forward(both, *target, ctx);
    }
    if (profile && !step.sums.empty()) m.backend->synchronize(), profile->gradient_sums_s += seconds_since(t0);
    if (ctx.backward_observer) ctx.backward_observer->gradients_ready(i);
  }
}

void check_dlogits(const Network::Impl& m, const Graph& graph, const Tensor& dlogits) {
  if (!dlogits.desc().same_as(m.descs.back()))
    throw GraphError("network '" + graph.arch + "': dlogits " + dlogits.desc().str() +
                     " does not match the logits " + m.descs.back().str());
}

namespace {

// The first two passes for a new input shape, with the layers prepared; the bound plan is freed
// first (its memory is not held twice).
void plan_layers(Network::Impl& m, const Graph& graph, const Shape& input_shape, bool training) {
  m.prepared = false;
  m.forwarded = false;
  m.gradient_at = -1;
  for (auto* v : {&m.acts, &m.grads, &m.recomputed, &m.replayed}) v->clear();
  m.partials.clear();
  m.steps.clear();
  m.block = Tensor();
  m.input = Tensor();
  m.input = m.backend->allocate(plain_desc(input_shape));
  std::vector<bool> same_in_training;
  for (const auto& layer : m.layers) same_in_training.push_back(layer->forward_same_in_training());
  m.probes = plan_probes(graph, m.probe_names, same_in_training, training);
  prepare_layers(m, graph);
  m.liveness = plan_liveness(m.nodes);
  m.fusion = plan_fusions(m, graph, training);
}

// What the memory pass is asked for: recompute, shared gradients and, in training, the
// checkpointed segments of the stages named in `stages`: one per residual block (and one for the
// stem), the planner's granularity (block_segments), with the kept outputs in the arena until
// their last backward read.
MemoryOptions memory_options(const Network::Impl& m, const Graph& graph, bool training,
                             const std::vector<std::string>& stages) {
  MemoryOptions options;
  if (training && m.recompute_outputs) options.recompute.assign(m.nodes.size(), true);
  for (const TensorDesc& d : m.descs) options.desc_key.push_back(d.str());
  if (training && !stages.empty()) {
    std::vector<std::string> names, node_stages;
    for (const NodeSpec& node : graph.nodes) names.push_back(node.name), node_stages.push_back(node.stage);
    options.segment = block_segments(names, node_stages, stages);
    options.hold_kept_in_arena = true;  // one backward per forward in training (train_step)
  }
  return options;
}

void check_stages(const Graph& graph, const std::vector<std::string>& stages) {
  for (const std::string& s : stages) {
    bool known = false;
    for (const NodeSpec& node : graph.nodes) known = known || node.stage == s;
    if (!known) throw GraphError("network '" + graph.arch + "' has no stage '" + s + "' to checkpoint");
  }
}

}  // namespace

void Network::set_checkpointed_stages(const std::vector<std::string>& stages) {
  check_stages(graph_, stages);
  impl_->checkpointed_stages = stages;
  impl_->prepared = false;
}

const std::vector<std::string>& Network::checkpointed_stages() const { return impl_->checkpointed_stages; }

Network::ActivationMemory Network::planned_activation_memory(const Shape& input_shape,
                                                             const std::vector<std::string>& stages) {
  Impl& m = *impl_;
  check_stages(graph_, stages);
  if (m.prepared || m.input.shape() != input_shape || !m.prepared_training || m.nodes.empty()) {
    plan_layers(m, graph_, input_shape, true);
    m.prepared_shape = input_shape;
    m.prepared_training = true;
  }
  const MemoryPlan plan = plan_memory(m.nodes, m.liveness, m.fusion, memory_options(m, graph_, true, stages));
  ActivationMemory a;
  a.input = m.input.bytes();
  a.arena = plan.arena.bytes();
  for (size_t i = 0; i < m.nodes.size(); ++i)
    if (plan.kept[i] && m.fusion.absorbed_by[i] < 0) a.kept += m.descs[i].bytes();
  return a;
}

void Network::prepare(const Shape& input_shape, bool training) {
  Impl& m = *impl_;
  if (m.prepared && m.prepared_shape == input_shape && m.prepared_training == training) return;
  plan_layers(m, graph_, input_shape, training);
  m.memory = plan_memory(m.nodes, m.liveness, m.fusion, memory_options(m, graph_, training, m.checkpointed_stages));
  bind_plan(m);
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
  Context as_trained = ctx;
  as_trained.training = true;
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (m.fusion.absorbed_by[i] >= 0) continue;  // computed by the layer that absorbed it
    xs.clear();
    for (const auto* inputs : {&graph_.nodes[i].inputs, &m.fusion.extra_inputs[i]})
      for (int in : *inputs) xs.push_back(in == NodeSpec::kInput ? &m.input : &m.acts[static_cast<size_t>(in)]);
    const auto t0 = profile ? clock::now() : clock::time_point{};
    // Downstream of a probe in an eval network, layers prepared for training run as such.
    m.layers[i]->forward(xs, m.acts[i], m.nodes[i].trains && !m.prepared_training ? as_trained : ctx);
    if (profile) backend_.synchronize(), profile->forward_s[i] += seconds_since(t0);
  }
  m.forwarded = true;
  m.gradient_at = -1;
  return m.acts.back();
}

void Network::backward(const Tensor& dlogits, Context& ctx) {
  Impl& m = *impl_;
  if (!m.prepared || !m.prepared_training)
    throw GraphError("network '" + graph_.arch + "': backward() needs prepare(shape, training=true)");
  check_dlogits(m, graph_, dlogits);
  m.gradient_at = -1;
  run_backward_steps(m, graph_, dlogits, ctx, nullptr);
}


}  // namespace cxr
