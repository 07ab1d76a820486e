#include "bench/layer_profile.h"

#include <cstdio>
#include <map>

#include "engine/ops/conv2d.h"
#include "engine/ops/linear.h"

namespace cxr {
namespace {

std::string line(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

double gflops(double gflop, double ms) { return ms > 0 ? gflop / (ms / 1e3) : 0.0; }

double node_macs(const Network& net, size_t i) {
  const NodeSpec& node = net.graph().nodes[i];
  const Shape& y = net.output_desc(i).shape;
  if (const auto* c = dynamic_cast<const ops::Conv2dParams*>(node.params.get()))
    return static_cast<double>(numel(y)) * static_cast<double>(c->in_channels * c->kernel * c->kernel);
  if (const auto* l = dynamic_cast<const ops::LinearParams*>(node.params.get()))
    return static_cast<double>(y[0]) * static_cast<double>(l->in_features * l->out_features);
  return 0;
}

}  // namespace

LayerProfile make_layer_profile(const Network& net, const StepProfile& profile, double step_s) {
  LayerProfile out;
  const Graph& g = net.graph();
  const double steps = static_cast<double>(std::max<int64_t>(1, profile.steps));
  out.step_ms = step_s * 1e3;
  out.gradient_sums_ms = profile.gradient_sums_s / steps * 1e3;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const NodeSpec& node = g.nodes[i];
    LayerProfileRow r;
    r.node = node.name.empty() ? std::string("#").append(std::to_string(i)) : node.name;
    r.op = node.params->op();
    if (i < profile.forward_s.size()) r.forward_ms = profile.forward_s[i] / steps * 1e3;
    if (i < profile.backward_s.size()) r.backward_ms = profile.backward_s[i] / steps * 1e3;
    r.forward_gflop = 2 * node_macs(net, i) / 1e9;
    const bool data_grad = node.inputs.size() != 1 || node.inputs[0] != NodeSpec::kInput;
    if (r.backward_ms > 0) r.backward_gflop = r.forward_gflop * (data_grad ? 2 : 1);
    out.rows.push_back(r);
  }
  return out;
}

double forward_flops(const Network& net) {
  double macs = 0;
  for (size_t i = 0; i < net.graph().nodes.size(); ++i) macs += node_macs(net, i);
  return 2 * macs;
}

std::string format_layer_profile(const LayerProfile& p, const std::string& title) {
  std::string s = "### " + title + "\n\n";
  s += "| layer | op | forward ms | GFLOP/s | backward ms | GFLOP/s | share |\n";
  s += "|---|---|---:|---:|---:|---:|---:|\n";
  struct Total {
    double forward_ms = 0, backward_ms = 0, forward_gflop = 0, backward_gflop = 0;
  };
  std::map<std::string, Total> by_op;
  double layers_ms = 0;
  for (const auto& r : p.rows) {
    const double ms = r.forward_ms + r.backward_ms;
    layers_ms += ms;
    Total& t = by_op[r.op];
    t.forward_ms += r.forward_ms, t.backward_ms += r.backward_ms;
    t.forward_gflop += r.forward_gflop, t.backward_gflop += r.backward_gflop;
    s += line("| %s | %s | %.2f | %s | %.2f | %s | %.1f %% |\n", r.node.c_str(), r.op.c_str(), r.forward_ms,
              r.forward_gflop > 0 ? line("%.0f", gflops(r.forward_gflop, r.forward_ms)).c_str() : "",
              r.backward_ms, r.backward_gflop > 0 ? line("%.0f", gflops(r.backward_gflop, r.backward_ms)).c_str() : "",
              100 * ms / p.step_ms);
  }
  s += "\n| op | forward ms | GFLOP/s | backward ms | GFLOP/s | share |\n|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [op, t] : by_op)
    s += line("| %s | %.1f | %s | %.1f | %s | %.1f %% |\n", op.c_str(), t.forward_ms,
              t.forward_gflop > 0 ? line("%.0f", gflops(t.forward_gflop, t.forward_ms)).c_str() : "", t.backward_ms,
              t.backward_gflop > 0 ? line("%.0f", gflops(t.backward_gflop, t.backward_ms)).c_str() : "",
              100 * (t.forward_ms + t.backward_ms) / p.step_ms);
  if (p.gradient_sums_ms > 0)
    s += line("| (gradient sums) | | | %.1f | | %.1f %% |\n", p.gradient_sums_ms, 100 * p.gradient_sums_ms / p.step_ms);
  const double rest = p.step_ms - layers_ms - p.gradient_sums_ms;
  s += line("| (outside layers: input copy, loss, optimizer) | %.1f | | | | %.1f %% |\n", rest, 100 * rest / p.step_ms);
  s += line("| **step** | **%.1f** | | | | 100 %% |\n", p.step_ms);
  return s;
}

}  // namespace cxr
