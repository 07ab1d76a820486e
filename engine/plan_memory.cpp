#include "engine/plan_memory.h"

#include "engine/plan_segments.h"

namespace cxr {
namespace {

// Outputs kept until backward, by storage; recomputed ones dropped (the rules in the header).
// Checkpointed segments first (plan_segments), then recompute outside them.
SegmentPlan plan_kept(const std::vector<PlanNode>& nodes, const Liveness& l, const FusionPlan& f,
                      const MemoryOptions& o, MemoryPlan& m) {
  const size_t n = nodes.size();
  m.kept.assign(n, false);
  for (size_t i = 0; i < n; ++i)
    if (l.read_in_backward[i]) m.kept[f.storage_of(i)] = true;
  SegmentPlan segments = plan_segments(nodes, l, f, o.segment, o.recompute, m.kept);
  m.recomputed.assign(n, false);
  m.replayed.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (segments.kept_from_replay[f.storage_of(i)]) m.recomputed[i] = m.replayed[i] = true;
    if (segments.recompute[i]) m.recomputed[i] = true;
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    if (i >= o.recompute.size() || !o.recompute[i]) continue;
    if (segments.pinned[i] || (i < o.segment.size() && o.segment[i] >= 0)) continue;
    if (!m.kept[i] || !nodes[i].trains || !nodes[i].can_recompute || nodes[i].backward_reads_output) continue;
    if (f.absorbed_by[i] >= 0 || f.absorbs[i] || nodes[i].probe) continue;  // its storage holds another output
    bool inputs_kept = true;
    for (int in : nodes[i].inputs)
      if (in != PlanNode::kInput && !m.kept[f.storage_of(static_cast<size_t>(in))]) inputs_kept = false;
    if (!inputs_kept) continue;
    m.recomputed[i] = true;
    m.kept[i] = false;
  }
  return segments;
}

// Kept outputs that live in the arena instead (MemoryOptions::hold_kept_in_arena): per storage
// node, the backward step after which its forward buffer is free (its last read in backward: by
// a step, a recompute or a segment's replay, in plan order), or -1 (not held). Marks them held.
std::vector<int> plan_held(const std::vector<PlanNode>& nodes, const Liveness& l, const FusionPlan& f,
                           const MemoryOptions& o, const SegmentPlan& segments, MemoryPlan& m) {
  const size_t n = nodes.size();
  std::vector<int> until(n, -1);
  m.held.assign(n, false);
  if (!o.hold_kept_in_arena) return until;
  for (const PlanNode& node : nodes)
    if (node.probe) return until;  // backward_to() may run backward more than once per forward
  auto read = [&](int in, size_t k) {
    if (in != PlanNode::kInput) until[f.storage_of(static_cast<size_t>(in))] = static_cast<int>(k);
  };
  for (size_t k = n; k-- > 0;) {  // backward order: the last write wins
    if (!l.has_step[k]) continue;
    for (int r : segments.replay_before[k])
      for (int in : forward_inputs(nodes, f, static_cast<size_t>(r))) read(in, k);
    for (int in : nodes[k].inputs) {  // recomputed before this step (plan_step)
      if (in == PlanNode::kInput) continue;
      const auto j = static_cast<size_t>(in);
      if (m.recomputed[j] && !m.replayed[j] && l.first_backward_reader[j] == static_cast<int>(k))
        for (int x : nodes[j].inputs) read(x, k);
    }
    for (size_t x = 0; x < nodes[k].inputs.size(); ++x)
      if (x >= nodes[k].backward_reads_input.size() || nodes[k].backward_reads_input[x]) read(nodes[k].inputs[x], k);
    if (nodes[k].backward_reads_output) read(static_cast<int>(k), k);
  }
  for (size_t i = 0; i + 1 < n; ++i) {  // never the logits: the caller reads them after backward
    if (!m.kept[i] || until[i] < 0) {
      until[i] = -1;
      continue;
    }
    m.kept[i] = false;
    m.held[i] = true;
  }
  until[n - 1] = -1;
  return until;
}

// Forward: the arena buffers of outputs nobody keeps, from their producer to their last reader
// (a held one's to its last reader in backward, released by plan_step).
void plan_forward(const std::vector<PlanNode>& nodes, const FusionPlan& f, MemoryPlan& m) {
  const size_t n = nodes.size();
  std::vector<size_t> last_use(n, 0);  // by storage: reads of an absorbed output read its absorber's
  for (size_t i = 0; i < n; ++i)
    for (int in : nodes[i].inputs)
      if (in != PlanNode::kInput) last_use[f.storage_of(static_cast<size_t>(in))] = i;
  m.act_buffer.assign(n, -1);
  std::vector<int> open(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (f.absorbed_by[i] < 0 && !m.kept[i]) open[i] = m.act_buffer[i] = m.arena.acquire(nodes[i].bytes);
    for (int input : nodes[i].inputs) {
      if (input == PlanNode::kInput) continue;
      const size_t in = f.storage_of(static_cast<size_t>(input));
      if (open[in] >= 0 && last_use[in] == i && !m.held[in]) m.arena.release(open[in]), open[in] = -1;
    }
    if (open[i] >= 0 && last_use[i] <= i && !m.held[i]) m.arena.release(open[i]), open[i] = -1;  // nobody reads it
  }
}

struct BackwardState {
  std::vector<int> slot, recompute_slot, deferred_slot, replay_slot;
  const SegmentPlan* segments = nullptr;
  std::vector<int> held_until;  // plan_held
};

// A segment's forward again, into arena buffers: each replayed output from here to its last
// backward reader, one only the replay reads until that reader has run.
void plan_replay(size_t k, const std::vector<PlanNode>& nodes, const FusionPlan& f, MemoryPlan& m, BackwardState& s,
                 StepPlan& step) {
  for (int r : s.segments->replay_before[k]) {
    const auto i = static_cast<size_t>(r);
    s.replay_slot[i] = m.replay_buffer[i] = m.arena.acquire(nodes[i].bytes);
    if (s.segments->kept_from_replay[i]) m.recompute_buffer[i] = s.replay_slot[i];
    step.replay.push_back(r);
    for (int in : forward_inputs(nodes, f, i)) {
      if (in == PlanNode::kInput) continue;
      const size_t j = f.storage_of(static_cast<size_t>(in));
      if (s.segments->transient_until[j] == r && s.replay_slot[j] >= 0)
        m.arena.release(s.replay_slot[j]), s.replay_slot[j] = -1;
    }
  }
}

// Two gradients may share node k's buffer while both must equal k's dx: backward runs in reverse
// node order, a gradient is last read by its producer's backward, and every other consumer of one
// of them adds into the buffer. So each one's other consumers must run after the other one's
// producer has read it (a smaller node index).
bool may_share(const Liveness& l, size_t a, size_t b, size_t k) {
  for (int c : l.consumers[a])
    if (static_cast<size_t>(c) != k && static_cast<size_t>(c) >= b) return false;
  for (int c : l.consumers[b])
    if (static_cast<size_t>(c) != k && static_cast<size_t>(c) >= a) return false;
  return true;
}

StepPlan plan_step(size_t k, const std::vector<PlanNode>& nodes, const Liveness& l, const FusionPlan& f,
                   const MemoryOptions& o, MemoryPlan& m, BackwardState& s) {
  const size_t n = nodes.size();
  StepPlan step;
  step.node = static_cast<int>(k);
  step.dy_buffer = k == n - 1 ? -1 : s.slot[k];
  step.dy_partial_buffer = s.deferred_slot[k];
  plan_replay(k, nodes, f, m, s, step);
  // A recomputed input comes back before its first reader in backward (the largest index).
  const auto& inputs = nodes[k].inputs;
  for (int in : inputs) {
    if (in == PlanNode::kInput) continue;
    const auto j = static_cast<size_t>(in);
    if (!m.recomputed[j] || m.replayed[j] || l.first_backward_reader[j] != static_cast<int>(k) ||
        s.recompute_slot[j] >= 0)
      continue;
    s.recompute_slot[j] = m.recompute_buffer[j] = m.arena.acquire(nodes[j].bytes);
    step.recompute.push_back(in);
  }
  // A layer whose input gradients are all equal (add) writes one buffer for every input whose
  // gradient starts here with that descriptor (the residual add: no copy of dy).
  int shared_slot = -1, shared_node = -1;
  const bool equal_grads = nodes[k].input_grads_equal && !o.desc_key.empty();
  std::vector<int> partial_slots;
  for (int in : inputs) {
    if (in == PlanNode::kInput || !nodes[static_cast<size_t>(in)].requires_grad) {
      step.dx.push_back({});
      continue;
    }
    const auto j = static_cast<size_t>(in);
    if (s.slot[j] < 0 && equal_grads && shared_node >= 0 && !nodes[j].probe &&
        o.desc_key[static_cast<size_t>(shared_node)] == o.desc_key[j] &&
        may_share(l, static_cast<size_t>(shared_node), j, k)) {
      s.slot[j] = m.grad_buffer[j] = shared_slot;
      m.arena.retain(shared_slot);
      step.dx.push_back({in, shared_slot, false});
    } else if (s.slot[j] < 0) {
      s.slot[j] = m.grad_buffer[j] = m.arena.acquire(nodes[j].bytes);
      step.dx.push_back({in, s.slot[j], false});
      if (equal_grads && shared_node < 0 && !nodes[j].probe) shared_slot = s.slot[j], shared_node = in;
    } else {
      const int partial = m.arena.acquire(nodes[j].bytes);
      step.dx.push_back({in, partial, true});
      if (s.deferred_slot[j] < 0 && f.takes_summand[j]) {
        s.deferred_slot[j] = partial;
      } else {
        partial_slots.push_back(partial);
        step.sums.push_back({in, partial, true});
      }
    }
  }
  for (int p : partial_slots) m.arena.release(p);
  for (int in : inputs)
    if (in != PlanNode::kInput && l.last_backward_reader[static_cast<size_t>(in)] == static_cast<int>(k) &&
        !m.replayed[static_cast<size_t>(in)] && s.recompute_slot[static_cast<size_t>(in)] >= 0) {
      m.arena.release(s.recompute_slot[static_cast<size_t>(in)]);
      s.recompute_slot[static_cast<size_t>(in)] = -1;
    }
  for (int r : s.segments->release_after[k])  // replayed outputs: after their last backward reader
    m.arena.release(s.replay_slot[static_cast<size_t>(r)]), s.replay_slot[static_cast<size_t>(r)] = -1;
  // A probe's gradient stays to the end: backward_to() reads it after the steps it skips, whose
  // segment replays still run (and would otherwise reuse its bytes).
  if (k != n - 1 && !nodes[k].probe) m.arena.release(s.slot[k]);
  if (s.deferred_slot[k] >= 0) m.arena.release(s.deferred_slot[k]);
  for (size_t j = 0; j < n; ++j)  // held outputs: after their last read in backward
    if (s.held_until[j] == static_cast<int>(k)) m.arena.release(m.act_buffer[j]);
  return step;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<PlanNode>& nodes, const Liveness& liveness, const FusionPlan& fusion,
                       const MemoryOptions& options) {
  const size_t n = nodes.size();
  MemoryPlan m;
  const SegmentPlan segments = plan_kept(nodes, liveness, fusion, options, m);
  std::vector<int> held_until = plan_held(nodes, liveness, fusion, options, segments, m);
  plan_forward(nodes, fusion, m);
  m.recompute_buffer.assign(n, -1);
  m.replay_buffer.assign(n, -1);
  m.grad_buffer.assign(n, -1);
  const std::vector<int> none(n, -1);
  BackwardState s{none, none, none, none, &segments, std::move(held_until)};
  for (size_t k = n; k-- > 0;)
    if (liveness.has_step[k]) m.steps.push_back(plan_step(k, nodes, liveness, fusion, options, m, s));
  for (size_t i = 0; i < n; ++i) {  // an absorbed node's replayed output is its absorber's
    if (fusion.absorbed_by[i] < 0) continue;
    m.replay_buffer[i] = m.replay_buffer[fusion.storage_of(i)];
    if (m.replayed[i]) m.recompute_buffer[i] = m.recompute_buffer[fusion.storage_of(i)];
  }
  m.arena.place();
  return m;
}

}  // namespace cxr
