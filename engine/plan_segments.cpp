#include "engine/plan_segments.h"

#include <algorithm>

namespace cxr {
namespace {

// The steps that read a storage node's output in backward: the first (largest index) and the
// last (smallest), and whether one of them lies outside the node's segment.
struct BackwardReads {
  int first = -1, last = -1;
  bool outside = false;
};

std::vector<BackwardReads> backward_reads(const std::vector<PlanNode>& nodes, const Liveness& l, const FusionPlan& f,
                                          const std::vector<int>& segment) {
  const size_t n = nodes.size();
  std::vector<BackwardReads> reads(n);
  for (size_t c = 0; c < n; ++c) {
    if (!l.has_step[c]) continue;
    auto note = [&](size_t s) {
      BackwardReads& r = reads[s];
      r.first = std::max(r.first, static_cast<int>(c));
      r.last = r.last < 0 ? static_cast<int>(c) : std::min(r.last, static_cast<int>(c));
      if (segment[c] != segment[s]) r.outside = true;
    };
    if (nodes[c].backward_reads_output) note(f.storage_of(c));
    const auto& inputs = nodes[c].inputs;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (inputs[k] == PlanNode::kInput) continue;
      if (k >= nodes[c].backward_reads_input.size() || nodes[c].backward_reads_input[k])
        note(f.storage_of(static_cast<size_t>(inputs[k])));
    }
  }
  return reads;
}

// Pinned outputs: the logits, probes, those read in backward outside their segment, and what a
// segment's node reads from outside its segment (kept as well: the replay starts from it).
std::vector<bool> pin(const std::vector<PlanNode>& nodes, const FusionPlan& f, const std::vector<int>& segment,
                      const std::vector<BackwardReads>& reads, std::vector<bool>& kept) {
  const size_t n = nodes.size();
  std::vector<bool> pinned(n, false);
  for (size_t i = 0; i < n; ++i) {
    const size_t s = f.storage_of(i);
    if (nodes[i].probe || i + 1 == n || reads[s].outside) pinned[s] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (f.absorbed_by[i] >= 0 || segment[i] < 0) continue;
    for (int in : forward_inputs(nodes, f, i)) {
      if (in == PlanNode::kInput) continue;
      const size_t s = f.storage_of(static_cast<size_t>(in));
      if (segment[s] != segment[i]) pinned[s] = kept[s] = true;
    }
  }
  return pinned;
}

// "layer1.0" for "layer1.0.conv1" in stage "layer1"; the stage itself for a name without the
// stage's prefix (the stem's conv1, bn1, maxpool) or without a component after it.
std::string block_of(const std::string& name, const std::string& stage) {
  if (name.size() <= stage.size() + 1 || name.compare(0, stage.size(), stage) != 0 || name[stage.size()] != '.')
    return stage;
  const size_t end = name.find('.', stage.size() + 1);
  return name.substr(0, end);
}

}  // namespace

std::vector<int> block_segments(const std::vector<std::string>& node_names,
                                const std::vector<std::string>& node_stages,
                                const std::vector<std::string>& checkpointed) {
  std::vector<int> segment(node_names.size(), -1);
  int id = -1;
  std::string previous;  // the block of node i - 1 when it is checkpointed (in_run)
  bool in_run = false;
  for (size_t i = 0; i < node_names.size(); ++i) {
    const std::string& stage = node_stages[i];
    if (std::find(checkpointed.begin(), checkpointed.end(), stage) == checkpointed.end()) {
      in_run = false;
      continue;
    }
    std::string block = block_of(node_names[i], stage);
    if (!in_run || block != previous) ++id;
    segment[i] = id;
    previous = std::move(block);
    in_run = true;
  }
  return segment;
}

std::vector<int> forward_inputs(const std::vector<PlanNode>& nodes, const FusionPlan& f, size_t i) {
  std::vector<int> inputs = nodes[i].inputs;
  inputs.insert(inputs.end(), f.extra_inputs[i].begin(), f.extra_inputs[i].end());
  return inputs;
}

SegmentPlan plan_segments(const std::vector<PlanNode>& nodes, const Liveness& l, const FusionPlan& f,
                          const std::vector<int>& segment_option, const std::vector<bool>& recompute,
                          std::vector<bool>& kept) {
  const size_t n = nodes.size();
  SegmentPlan p;
  p.pinned.assign(n, false);
  p.replayed.assign(n, false);
  p.kept_from_replay.assign(n, false);
  p.recompute.assign(n, false);
  p.replay_before.assign(n, {});
  p.transient_until.assign(n, -1);
  p.release_after.assign(n, {});
  if (segment_option.empty()) return p;
  std::vector<int> segment(n, -1);
  std::copy_n(segment_option.begin(), std::min(n, segment_option.size()), segment.begin());
  const std::vector<BackwardReads> reads = backward_reads(nodes, l, f, segment);
  p.pinned = pin(nodes, f, segment, reads, kept);

  // Forward order: a storage node can replay when its layer can and everything it reads from its
  // own segment is kept or replayable itself.
  std::vector<bool> can(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (f.absorbed_by[i] >= 0 || segment[i] < 0 || p.pinned[i] || !nodes[i].trains || !nodes[i].can_replay) continue;
    bool ready = true;
    for (int in : forward_inputs(nodes, f, i)) {
      if (in == PlanNode::kInput) continue;
      const size_t s = f.storage_of(static_cast<size_t>(in));
      if (segment[s] == segment[i] && !kept[s] && !can[s]) ready = false;
    }
    can[i] = ready;
  }
  std::vector<bool> dropped(n, false);
  for (size_t i = 0; i < n; ++i)
    if (can[i] && kept[i]) dropped[i] = true, kept[i] = false;
  // A dropped output its layer can recompute from inputs that are still there at its first
  // backward reader (kept, or replayed and read in backward up to then) is recomputed there.
  for (size_t i = 0; i < n; ++i) {
    if (!dropped[i] || i >= recompute.size() || !recompute[i] || !nodes[i].can_recompute ||
        nodes[i].backward_reads_output || f.absorbs[i] || nodes[i].probe || l.first_backward_reader[i] < 0)
      continue;
    bool inputs_there = true;
    for (int in : nodes[i].inputs) {
      if (in == PlanNode::kInput) continue;
      const size_t j = f.storage_of(static_cast<size_t>(in));
      const bool read_until_then = dropped[j] && !p.recompute[j] && reads[j].first >= 0 &&
                                   reads[j].last <= l.first_backward_reader[i];
      if (!kept[j] && !read_until_then) inputs_there = false;
    }
    p.recompute[i] = inputs_there;
  }

  // Backward order: replay what a backward reads, and what that needs from its segment.
  std::vector<std::vector<int>> readers(n);  // per storage node: storage nodes whose forward reads it
  for (size_t c = 0; c < n; ++c)
    if (f.absorbed_by[c] < 0)
      for (int in : forward_inputs(nodes, f, c))
        if (in != PlanNode::kInput && f.storage_of(static_cast<size_t>(in)) != c)
          readers[f.storage_of(static_cast<size_t>(in))].push_back(static_cast<int>(c));
  for (size_t i = n; i-- > 0;) {
    if (!can[i]) continue;
    p.kept_from_replay[i] = dropped[i] && reads[i].first >= 0 && !p.recompute[i];
    bool needed = p.kept_from_replay[i];
    for (int c : readers[i]) {
      const auto j = static_cast<size_t>(c);
      if (segment[j] != segment[i] || !p.replayed[j]) continue;
      needed = true;
      if (!p.kept_from_replay[i]) p.transient_until[i] = std::max(p.transient_until[i], c);
    }
    p.replayed[i] = needed;
  }

  // Each segment replays at once, before the first step that reads one of its dropped outputs.
  std::vector<int> trigger_of_segment;
  // (A recomputed one's first reader too: its inputs may come from the replay.)
  for (size_t i = 0; i < n; ++i) {
    if (!p.kept_from_replay[i] && !p.recompute[i]) continue;
    const auto g = static_cast<size_t>(segment[i]);
    if (trigger_of_segment.size() <= g) trigger_of_segment.resize(g + 1, -1);
    trigger_of_segment[g] = std::max(trigger_of_segment[g], reads[i].first);
    if (p.kept_from_replay[i]) p.release_after[static_cast<size_t>(reads[i].last)].push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < n; ++i) {
    if (!p.replayed[i]) continue;
    const auto g = static_cast<size_t>(segment[i]);
    if (g < trigger_of_segment.size() && trigger_of_segment[g] >= 0)
      p.replay_before[static_cast<size_t>(trigger_of_segment[g])].push_back(static_cast<int>(i));
    else
      p.replayed[i] = p.kept_from_replay[i] = false;  // nothing of its segment is read in backward
  }
  return p;
}

}  // namespace cxr
