// Network's questions and answers: probes (Grad-CAM), parameters and state, plan settings.
#include "engine/network_impl.h"

namespace cxr {

void Network::set_probes(const std::vector<std::string>& node_names) {
  for (const std::string& name : node_names)
    if (!layer(name)) throw GraphError("network '" + graph_.arch + "': no node named '" + name + "' to probe");
  impl_->probe_names = node_names;
  impl_->prepared = false;
}

const Tensor& Network::output_of(const std::string& node_name) const {
  const size_t p = probe_index(impl_->probes, graph_, node_name, "output_of");
  if (!impl_->prepared || !impl_->forwarded)
    throw GraphError("network '" + graph_.arch + "': output_of('" + node_name + "') before forward()");
  return impl_->acts[p];
}

std::vector<float> Network::output_plain(const std::string& node_name) {
  const Tensor& t = output_of(node_name);
  std::vector<float> out(static_cast<size_t>(t.numel()));
  backend_.read_plain(t, out.data());
  return out;
}

void Network::backward_to(const std::string& node_name, const Tensor& dlogits, Context& ctx) {
  Impl& m = *impl_;
  const size_t p = probe_index(m.probes, graph_, node_name, "backward_to");
  if (!m.prepared || !m.forwarded)
    throw GraphError("network '" + graph_.arch + "': backward_to('" + node_name + "') before forward()");
  if (!m.probes.backward[p])
    throw GraphError("network '" + graph_.arch + "': backward_to('" + node_name + "') in eval: a layer after it " +
                     "computes differently in training and eval (batchnorm); prepare(shape, training=true) for it");
  check_dlogits(m, graph_, dlogits);
  Context as_trained = ctx;
  as_trained.training = true;
  run_backward_steps(m, graph_, dlogits, as_trained, &m.probes.downstream[p]);
  m.gradient_at = static_cast<int>(p);
}

const Tensor& Network::input_gradient_at(const std::string& node_name) const {
  const size_t p = probe_index(impl_->probes, graph_, node_name, "input_gradient_at");
  if (impl_->gradient_at != static_cast<int>(p))
    throw GraphError("network '" + graph_.arch + "': input_gradient_at('" + node_name +
                     "') without a backward_to() to it since the last forward()");
  return impl_->grads[p];
}

std::vector<float> Network::input_gradient_plain(const std::string& node_name) {
  const Tensor& t = input_gradient_at(node_name);
  std::vector<float> out(static_cast<size_t>(t.numel()));
  backend_.read_plain(t, out.data());
  return out;
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

void Network::set_eval_fusions(bool on) {
  if (impl_->eval_fusions == on) return;
  impl_->eval_fusions = on;
  impl_->prepared = false;
}

Network::ActivationMemory Network::activation_memory() const {
  // Views into the arena are counted once, through the arena.
  ActivationMemory m;
  m.input = impl_->input.bytes();
  m.arena = impl_->block.defined() ? impl_->block.bytes() : 0;
  for (size_t i = 0; i < impl_->acts.size() && i < impl_->memory.kept.size(); ++i)
    if (impl_->memory.kept[i] && impl_->fusion.absorbed_by[i] < 0) m.kept += impl_->acts[i].bytes();
  return m;
}

}  // namespace cxr
