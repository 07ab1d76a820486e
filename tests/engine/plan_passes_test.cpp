// The planner's passes on plain data (no layers, no backend): plan_liveness, plan_fusion and
// plan_memory on small hand-built graphs whose answers are worked out in the comments, and on
// seeded random graphs whose memory plans are executed symbolically: every read must find the
// bytes its writer left there (no buffer overwritten while live, nothing read in backward that
// was neither kept nor recomputed).
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/errors.h"
#include "engine/plan_memory.h"
#include "engine/plan_segments.h"

namespace cxr {
namespace {

constexpr int kIn = PlanNode::kInput;

// A conv-like node: backward reads its input, not its output.
PlanNode conv(int in, int64_t bytes = 256) {
  PlanNode n;
  n.inputs = {in};
  n.bytes = bytes, n.trains = true, n.requires_grad = true;
  n.backward_reads_output = false, n.backward_reads_input = {true};
  return n;
}
// A BN-like node: backward reads its input, and it can recompute its output.
PlanNode bn(int in, int64_t bytes = 256) {
  PlanNode n = conv(in, bytes);
  n.can_recompute = true;
  return n;
}
// An add (+ReLU): backward reads only its output; equal input gradients; sums dy itself.
PlanNode add(int a, int b, int64_t bytes = 256) {
  PlanNode n;
  n.inputs = {a, b};
  n.bytes = bytes, n.trains = true, n.requires_grad = true;
  n.backward_reads_output = true, n.backward_reads_input = {false, false};
  n.input_grads_equal = true, n.sums_dy = true;
  return n;
}

TEST(PlanLiveness, ReadersStepsAndBackwardReads) {
  // 0 conv(in) → 1 bn → 2 conv → 3 add(2, 1) → 4 conv (the logits)
  std::vector<PlanNode> g{conv(kIn), bn(0), conv(1), add(2, 1), conv(3)};
  g[0].requires_grad = false;  // a frozen first conv: no gradient wanted there
  const Liveness l = plan_liveness(g);
  EXPECT_EQ(l.consumers[1], (std::vector<int>{2, 3}));
  EXPECT_EQ(l.last_reader, (std::vector<int>{1, 3, 3, 4, -1}));
  EXPECT_EQ(l.has_step, (std::vector<bool>{false, true, true, true, true}));
  // 0: read by bn's backward; 1: by conv 2; 2: nobody (add reads its output); 3: by itself and conv 4.
  EXPECT_EQ(l.read_in_backward, (std::vector<bool>{true, true, false, true, true}));
  EXPECT_EQ(l.first_backward_reader[1], 2);
  EXPECT_EQ(l.last_backward_reader[1], 2);
  EXPECT_EQ(l.first_backward_reader[0], 1);
  EXPECT_THROW(plan_liveness({conv(1), conv(0)}), GraphError);
}

TEST(PlanFusion, EvalChainsAndWhatBlocksThem) {
  // 0 conv → 1 bn → 2 add(1, in) → 3 conv: conv 0 absorbs bn 1, then the add (its other input
  // is the network input, always there); conv 3 has no consumer.
  std::vector<PlanNode> g{conv(kIn), bn(0), add(1, kIn), conv(2)};
  for (PlanNode& n : g) n.trains = false, n.requires_grad = false;
  std::vector<std::pair<size_t, size_t>> asked;
  auto yes = [&](size_t a, size_t j, const std::vector<int>&) { return asked.emplace_back(a, j), true; };
  FusionOptions eval;
  FusionPlan f = plan_fusion(g, plan_liveness(g), eval, yes);
  EXPECT_EQ(f.absorbed_by, (std::vector<int>{-1, 0, 0, 0}));
  EXPECT_EQ(f.extra_inputs[0], (std::vector<int>{kIn}));
  EXPECT_EQ(asked, (std::vector<std::pair<size_t, size_t>>{{0, 1}, {0, 2}, {0, 3}}));
  EXPECT_EQ(f.storage_of(2), 0u);
  // A probe on the BN: its output must exist, so nobody absorbs its consumer (the add).
  g[1].probe = true;
  f = plan_fusion(g, plan_liveness(g), eval, yes);
  EXPECT_EQ(f.absorbed_by, (std::vector<int>{-1, 0, -1, 2}));
  g[1].probe = false;
  // A layer prepared for training (a probe's backward path) is never absorbed in eval.
  g[2].trains = true;
  f = plan_fusion(g, plan_liveness(g), eval, yes);
  EXPECT_EQ(f.absorbed_by, (std::vector<int>{-1, 0, -1, -1}));
  // The absorber refuses: nothing changes; with absorb off nobody is even asked.
  asked.clear();
  f = plan_fusion(g, plan_liveness(g), eval, [](size_t, size_t, const std::vector<int>&) { return false; });
  EXPECT_EQ(f.absorbed_by, (std::vector<int>{-1, -1, -1, -1}));
  eval.absorb = false;
  f = plan_fusion(g, plan_liveness(g), eval, yes);
  EXPECT_TRUE(asked.empty());
}

TEST(PlanFusion, TrainingAbsorbsNoChainsAndKeepsBackwardReads) {
  // 0 conv(in) → 1 bn → 2 add(1, 0) (+ReLU) → 3 conv. In training bn 1 may compute the add: the
  // add's backward reads only its output; add's other input (0) is computed before bn 1.
  std::vector<PlanNode> g{conv(kIn), bn(0), add(1, 0), conv(2)};
  std::vector<std::vector<int>> others;
  auto yes = [&](size_t, size_t, const std::vector<int>& o) { return others.push_back(o), true; };
  FusionOptions training;
  training.training = true;
  FusionPlan f = plan_fusion(g, plan_liveness(g), training, yes);
  // conv 0 has two readers (bn, add); bn 1 takes the add; the add's consumer conv 3 reads its
  // input in backward, so the add (absorbed, a != i) is not chained further.
  EXPECT_EQ(f.absorbed_by, (std::vector<int>{-1, -1, 1, -1}));
  EXPECT_EQ(others, (std::vector<std::vector<int>>{{0}}));
  EXPECT_EQ(f.takes_summand, (std::vector<bool>{false, false, true, false}));
  // A BN whose own backward reads its output cannot leave it unwritten.
  g[1].backward_reads_output = true;
  f = plan_fusion(g, plan_liveness(g), training, yes);
  EXPECT_EQ(f.absorbed_by[2], -1);
  // Options: no absorption, no producer sums; a probe never takes a summand.
  training.absorb = false, training.producer_sums = false;
  f = plan_fusion(g, plan_liveness(g), training, yes);
  EXPECT_EQ(f.absorbed_by, (std::vector<int>{-1, -1, -1, -1}));
  EXPECT_EQ(f.takes_summand[2], false);
  training.producer_sums = true;
  g[2].probe = true;
  EXPECT_EQ(plan_fusion(g, plan_liveness(g), training, yes).takes_summand[2], false);
}

MemoryOptions all_recompute(size_t n) {
  MemoryOptions o;
  o.recompute.assign(n, true);
  o.desc_key.assign(n, "same");
  return o;
}

TEST(PlanMemory, RecomputedOutputsAndTheirBuffers) {
  // 0 conv → 1 bn (read only by conv 2's backward: recomputable) → 2 conv → 3 conv (the logits).
  std::vector<PlanNode> g{conv(kIn), bn(0), conv(1), conv(2)};
  const Liveness l = plan_liveness(g);
  const FusionPlan f = plan_fusion(g, l, {}, [](size_t, size_t, const std::vector<int>&) { return false; });
  MemoryPlan m = plan_memory(g, l, f, all_recompute(g.size()));
  EXPECT_EQ(m.recomputed, (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(m.kept, (std::vector<bool>{true, false, true, true}));
  ASSERT_EQ(m.steps.size(), 4u);
  EXPECT_EQ(m.steps[0].node, 3);
  EXPECT_EQ(m.steps[0].dy_buffer, -1);  // the logits' gradient is the caller's
  EXPECT_EQ(m.steps[1].node, 2);
  EXPECT_EQ(m.steps[1].recompute, (std::vector<int>{1}));  // before its only reader
  EXPECT_GE(m.recompute_buffer[1], 0);
  EXPECT_GE(m.act_buffer[1], 0);  // in the arena during forward
  // Asked for nothing (MemoryOptions::recompute empty): kept.
  m = plan_memory(g, l, f, {});
  EXPECT_EQ(m.recomputed, (std::vector<bool>{false, false, false, false}));
  EXPECT_TRUE(m.kept[1]);
  // Only node 0 asked for: the BN stays kept (the selection is per node).
  MemoryOptions only0;
  only0.recompute = {true, false, false, false};
  EXPECT_FALSE(plan_memory(g, l, f, only0).recomputed[1]);
}

TEST(PlanMemory, SecondGradientWritersSumOrHandTheSummandToTheProducer) {
  // 0 conv → 1 add(0, in) → 2 conv(1) → 3 add(2, 1) → 4 conv: add 1's gradient has two writers.
  std::vector<PlanNode> g{conv(kIn), add(0, kIn), conv(1), add(2, 1), conv(3)};
  const Liveness l = plan_liveness(g);
  auto no = [](size_t, size_t, const std::vector<int>&) { return false; };
  FusionOptions fo;
  fo.training = true;
  MemoryPlan m = plan_memory(g, l, plan_fusion(g, l, fo, no), all_recompute(g.size()));
  const StepPlan* step1 = nullptr;
  for (const StepPlan& s : m.steps)
    if (s.node == 1) step1 = &s;
  ASSERT_NE(step1, nullptr);
  EXPECT_GE(step1->dy_partial_buffer, 0) << "add 1 sums its two summands itself";
  for (const StepPlan& s : m.steps) EXPECT_TRUE(s.sums.empty());
  fo.producer_sums = false;
  m = plan_memory(g, l, plan_fusion(g, l, fo, no), all_recompute(g.size()));
  size_t sums = 0;
  for (const StepPlan& s : m.steps) {
    EXPECT_EQ(s.dy_partial_buffer, -1);
    for (const GradTarget& t : s.sums) {
      EXPECT_EQ(t.node, 1);
      ++sums;
    }
  }
  EXPECT_EQ(sums, 1u);
}

// Symbolic execution of a plan: each 64-byte chunk of the arena remembers what was written last.
struct Simulator {
  const std::vector<PlanNode>& g;
  const FusionPlan& f;
  const MemoryPlan& m;
  std::vector<std::string> chunk;
  std::string where;

  void write(int buffer, const std::string& tag) {
    const ArenaBuffer& b = m.arena.buffer(buffer);
    for (int64_t c = b.offset / 64; c < (b.offset + b.bytes) / 64; ++c) chunk[static_cast<size_t>(c)] = tag;
  }
  void read(int buffer, const std::string& tag) {
    const ArenaBuffer& b = m.arena.buffer(buffer);
    for (int64_t c = b.offset / 64; c < (b.offset + b.bytes) / 64; ++c)
      ASSERT_EQ(chunk[static_cast<size_t>(c)], tag) << where;
  }
  void read_act(int in, bool backward) {  // node in's output, as forward left it
    if (in == kIn) return;
    const size_t s = f.storage_of(static_cast<size_t>(in));
    if (backward && m.recomputed[static_cast<size_t>(in)]) return read(m.recompute_buffer[static_cast<size_t>(in)], "r" + std::to_string(s));
    if (backward) ASSERT_TRUE(m.kept[s] || m.held[s]) << where << ": node " << in << " read in backward, neither kept nor recomputed";
    if (!m.kept[s]) read(m.act_buffer[s], "a" + std::to_string(s));
  }
  static std::string grad(int buffer) { return "g" + std::to_string(buffer); }
  void read_for_replay(int in) {  // a checkpointed segment's forward again reads the replay or kept outputs
    if (in == kIn) return;
    const size_t s = f.storage_of(static_cast<size_t>(in));
    if (m.replay_buffer[s] >= 0) return read(m.replay_buffer[s], "r" + std::to_string(s));
    ASSERT_TRUE(m.kept[s] || m.held[s]) << where << ": replay reads node " << in << ", neither kept nor replayed";
    if (m.held[s]) read(m.act_buffer[s], "a" + std::to_string(s));
  }

  void run() {
    chunk.assign(static_cast<size_t>(m.arena.bytes() / 64 + 1), "");
    for (size_t i = 0; i < g.size(); ++i) {
      if (f.absorbed_by[i] >= 0) continue;
      where = "forward " + std::to_string(i);
      for (int in : g[i].inputs) read_act(in, false);
      for (int in : f.extra_inputs[i]) read_act(in, false);
      if (!m.kept[i]) write(m.act_buffer[i], "a" + std::to_string(i));
    }
    for (const StepPlan& s : m.steps) {
      const auto k = static_cast<size_t>(s.node);
      where = "backward " + std::to_string(k);
      for (int r : s.replay) {
        for (int in : g[static_cast<size_t>(r)].inputs) read_for_replay(in);
        for (int in : f.extra_inputs[static_cast<size_t>(r)]) read_for_replay(in);
        write(m.replay_buffer[static_cast<size_t>(r)], "r" + std::to_string(r));
      }
      for (int r : s.recompute) {
        for (int in : g[static_cast<size_t>(r)].inputs) read_act(in, true);
        write(m.recompute_buffer[static_cast<size_t>(r)], "r" + std::to_string(r));
      }
      if (s.dy_buffer >= 0) read(s.dy_buffer, grad(s.dy_buffer));
      if (s.dy_partial_buffer >= 0) read(s.dy_partial_buffer, grad(s.dy_partial_buffer));
      for (size_t x = 0; x < g[k].inputs.size(); ++x)
        if (g[k].backward_reads_input[x]) read_act(g[k].inputs[x], true);
      if (g[k].backward_reads_output) read_act(static_cast<int>(k), true);
      for (const GradTarget& t : s.dx)
        if (t.node >= 0) write(t.buffer, grad(t.buffer));
      for (const GradTarget& t : s.sums) {
        read(t.buffer, grad(t.buffer));
        const int target = m.grad_buffer[static_cast<size_t>(t.node)];
        read(target, grad(target));
      }
    }
  }
};

TEST(PlanMemory, CheckpointedSegmentReplaysBeforeItsFirstBackwardReader) {
  // 0 conv(in) → 1 bn → 2 conv → 3 bn → 4 conv (the logits); nodes 0–3 are one segment.
  std::vector<PlanNode> g{conv(kIn), bn(0), conv(1), bn(2), conv(3)};
  for (PlanNode& n : g) n.can_replay = true;
  const Liveness l = plan_liveness(g);
  const FusionPlan f = plan_fusion(g, l, FusionOptions{}, [](size_t, size_t, const std::vector<int>&) { return false; });
  MemoryOptions o = all_recompute(g.size());
  o.segment = {0, 0, 0, 0, -1};
  const MemoryPlan m = plan_memory(g, l, f, o);
  // 3 is read by conv 4's backward, outside the segment: kept. 0 and 2 (read by the BNs'
  // backward) are replayed and read there; 1 is replayed for conv 2's replay only, then
  // recomputed by its layer before conv 2's backward.
  EXPECT_EQ(m.kept, (std::vector<bool>{false, false, false, true, true}));
  EXPECT_EQ(m.replayed, (std::vector<bool>{true, false, true, false, false}));
  EXPECT_EQ(m.recomputed, (std::vector<bool>{true, true, true, false, false}));
  ASSERT_EQ(m.steps.size(), 5u);
  EXPECT_EQ(m.steps[0].replay, std::vector<int>{});
  EXPECT_EQ(m.steps[1].node, 3);  // the segment's first backward step reads node 2
  EXPECT_EQ(m.steps[1].replay, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(m.steps[2].recompute, std::vector<int>{1});
  EXPECT_EQ(m.recompute_buffer[2], m.replay_buffer[2]);
  EXPECT_NE(m.recompute_buffer[1], m.replay_buffer[1]);
  // Without the segment, 0 and 2 are kept through forward (the BNs' outputs recomputed from
  // them); with it, only what conv 4 reads.
  const MemoryPlan plain = plan_memory(g, l, f, all_recompute(g.size()));
  EXPECT_EQ(plain.kept, (std::vector<bool>{true, false, true, false, true}));
  Simulator sim{g, f, m, {}, {}};
  sim.run();
}

TEST(PlanSegments, OneSegmentPerResidualBlockOfACheckpointedStage) {
  // torchvision's names: the stem has no block prefix, a block is "layerK.J".
  const std::vector<std::string> names{"conv1", "bn1", "maxpool", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.add",
                                       "layer1.1.conv1", "layer1.1.add", "layer2.0.conv1", "layer2.0.downsample.0",
                                       "layer2.0.add", "avgpool", "flatten", "fc"};
  const std::vector<std::string> stages{"conv1", "conv1", "conv1", "layer1", "layer1", "layer1", "layer1",
                                        "layer1", "layer2", "layer2", "layer2", "fc", "fc", "fc"};
  EXPECT_EQ(block_segments(names, stages, {"conv1", "layer1", "layer2"}),
            (std::vector<int>{0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, -1, -1, -1}));
  EXPECT_EQ(block_segments(names, stages, {"layer2", "conv1"}),
            (std::vector<int>{0, 0, 0, -1, -1, -1, -1, -1, 1, 1, 1, -1, -1, -1}));
  EXPECT_EQ(block_segments(names, stages, {"layer1"}),
            (std::vector<int>{-1, -1, -1, 0, 0, 0, 1, 1, -1, -1, -1, -1, -1, -1}));
  EXPECT_EQ(block_segments(names, stages, {}), std::vector<int>(names.size(), -1));
  // "layer1" is not the prefix of "layer10.0"; a node of the stage without its prefix is its own run.
  EXPECT_EQ(block_segments({"layer10.0.conv1", "x", "layer1.0.conv1"}, {"layer1", "layer1", "layer1"}, {"layer1"}),
            (std::vector<int>{0, 0, 1}));
}

TEST(PlanMemory, EachBlockOfAStageReplaysAloneBeforeItsOwnBackward) {
  // Two residual blocks of one stage, then the logits:
  //   block A (segment 0): 0 conv(in) → 1 bn → 2 add(1, in)
  //   block B (segment 1): 3 conv(2) → 4 bn → 5 add(4, 2)
  //   6 conv(5), the logits.
  std::vector<PlanNode> g{conv(kIn), bn(0), add(1, kIn), conv(2), bn(3), add(4, 2), conv(5)};
  for (PlanNode& n : g) n.can_replay = true;
  const Liveness l = plan_liveness(g);
  const FusionPlan f = plan_fusion(g, l, FusionOptions{}, [](size_t, size_t, const std::vector<int>&) { return false; });
  MemoryOptions o = all_recompute(g.size());
  o.segment = {0, 0, 0, 1, 1, 1, -1};
  const MemoryPlan m = plan_memory(g, l, f, o);
  // Block B's input (2) is kept; so is 5, which conv 6's backward reads. Each block's conv output
  // (0, 3) is replayed by its own block, right before the BN's backward that reads it.
  EXPECT_EQ(m.kept, (std::vector<bool>{false, false, true, false, false, true, true}));
  EXPECT_EQ(m.replayed, (std::vector<bool>{true, false, false, true, false, false, false}));
  ASSERT_EQ(m.steps.size(), 7u);
  std::vector<std::vector<int>> replays;
  for (const StepPlan& s : m.steps) replays.push_back(s.replay);
  EXPECT_EQ(replays, (std::vector<std::vector<int>>{{}, {}, {3}, {}, {}, {0}, {}}));
  EXPECT_EQ(m.steps[2].node, 4);
  EXPECT_EQ(m.steps[5].node, 1);
  // Both blocks as one segment (a stage replayed whole): the boundary 2 is replayed too, and
  // the whole stage replays at once before B's first backward reader.
  o.segment = {0, 0, 0, 0, 0, 0, -1};
  const MemoryPlan whole = plan_memory(g, l, f, o);
  EXPECT_EQ(whole.kept, (std::vector<bool>{false, false, false, false, false, true, true}));
  ASSERT_EQ(whole.steps.size(), 7u);
  EXPECT_EQ(whole.steps[2].replay, (std::vector<int>{0, 1, 2, 3}));
  // Kept outputs held in the arena: 2 and 5 stay in their forward buffers until their last read
  // in backward (2: block B's replay, conv 3's step, then add 2's own step; 5: add 5's step),
  // then their bytes are reused; the logits keep their own memory.
  o.segment = {0, 0, 0, 1, 1, 1, -1};
  o.hold_kept_in_arena = true;
  const MemoryPlan held = plan_memory(g, l, f, o);
  EXPECT_EQ(held.kept, (std::vector<bool>{false, false, false, false, false, false, true}));
  EXPECT_EQ(held.held, (std::vector<bool>{false, false, true, false, false, true, false}));
  EXPECT_GE(held.act_buffer[2], 0);
  EXPECT_LE(held.arena.bytes(), m.arena.bytes() + 2 * 256);  // 2 and 5 moved into the arena at most
  for (const MemoryPlan* plan : {&m, &whole, &held}) {
    Simulator sim{g, f, *plan, {}, {}};
    sim.run();
  }
}

// Random DAGs of conv-, BN- and add-like nodes with random facts, each chain ending in the logits.
std::vector<PlanNode> random_graph(std::mt19937& rng) {
  std::vector<PlanNode> g;
  const int n = 4 + static_cast<int>(rng() % 14);
  for (int i = 0; i < n; ++i) {
    const int64_t bytes = 64 * (1 + static_cast<int64_t>(rng() % 8));
    auto pick = [&] { return i == 0 || rng() % 8 == 0 ? kIn : static_cast<int>(rng() % static_cast<unsigned>(i)); };
    const int a = i == 0 ? kIn : (rng() % 2 ? i - 1 : pick());
    PlanNode node;
    switch (rng() % 3) {
      case 0: node = conv(a, bytes); break;
      case 1: node = bn(a, bytes); break;
      default: node = add(a, pick(), bytes); break;
    }
    node.backward_reads_output = rng() % 3 == 0;
    node.probe = rng() % 10 == 0;
    node.can_replay = rng() % 6 != 0;
    if (i < 2 && rng() % 3 == 0) node.requires_grad = false;
    g.push_back(node);
  }
  return g;
}

TEST(PlanMemory, RandomPlansNeverOverwriteALiveTensor) {
  int replays = 0;  // plans that replay a checkpointed segment: the sweep must reach them
  for (unsigned seed = 0; seed < 300; ++seed) {
    std::mt19937 rng(seed);
    const std::vector<PlanNode> g = random_graph(rng);
    const Liveness l = plan_liveness(g);
    FusionOptions fo;
    fo.training = rng() % 2;
    fo.absorb = rng() % 2, fo.producer_sums = rng() % 2;
    auto maybe = [&](size_t, size_t, const std::vector<int>&) { return rng() % 2 == 0; };
    const FusionPlan f = plan_fusion(g, l, fo, maybe);
    MemoryOptions mo = all_recompute(g.size());
    if (rng() % 2) mo.recompute.clear();
    mo.hold_kept_in_arena = rng() % 2;
    if (fo.training && rng() % 2) {  // checkpointed segments: runs of consecutive nodes
      mo.segment.assign(g.size(), -1);
      for (size_t i = 0, id = 0; i < g.size(); ++i) {
        if (rng() % 4 == 0) ++id;
        mo.segment[i] = rng() % 3 == 0 ? -1 : static_cast<int>(id);
      }
    }
    const MemoryPlan m = plan_memory(g, l, f, mo);
    Simulator sim{g, f, m, {}, {}};
    sim.run();
    if (::testing::Test::HasFatalFailure()) FAIL() << "seed " << seed;
    for (const StepPlan& st : m.steps) replays += st.replay.empty() ? 0 : 1;
    for (const ArenaBuffer& a : m.arena.buffers())
      for (const ArenaBuffer& b : m.arena.buffers())
        if (&a != &b && a.opened < b.closed && b.opened < a.closed)
          ASSERT_TRUE(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset) << "seed " << seed;
  }
  EXPECT_GT(replays, 20);
}

}  // namespace
}  // namespace cxr
