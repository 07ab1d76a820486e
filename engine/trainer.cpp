#include "engine/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "core/errors.h"
#include "engine/gradient_reducer.h"

namespace cxr {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool state_finite(Network& net) {
  for (const StateEntry& e : net.state())
    if (e.value->dtype() == DType::F32 && !net.backend().all_finite(*e.value)) return false;
  return true;
}

// Names only a checkpoint that exists: when the weights were already poisoned before the first
// save, there is none.
std::string checkpoint_note(const RunSink& sink) {
  const std::string last = sink.last_checkpoint();
  return last.empty() ? "; no good checkpoint was written before it" : "; the last good checkpoint is " + last;
}

template <typename T>
void put(std::string& blob, const T* data, size_t count) {
  blob.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

template <typename T>
void get(const std::string& blob, size_t& at, T* data, size_t count) {
  if (at + count * sizeof(T) > blob.size()) throw std::logic_error("evaluation gather: a rank's shard is truncated");
  std::memcpy(data, blob.data() + at, count * sizeof(T));
  at += count * sizeof(T);
}

// Every rank's evaluation rows back in the data set's order: the loader gives rank r the r-th
// slice of each batch (io/loader.h), so batch b is rank 0's rows of b, then rank 1's, ...
void gather_shards(Communicator& comm, const std::vector<int64_t>& rows_per_batch, int64_t k, int64_t per_target,
                   std::vector<float>& logits, std::vector<float>& targets, std::vector<std::string>& ids) {
  int64_t total = 0;
  for (int64_t n : rows_per_batch) total += n;
  const bool with_ids = static_cast<int64_t>(ids.size()) == total;
  std::string blob;
  const auto batches = static_cast<int64_t>(rows_per_batch.size());
  put(blob, &batches, 1);
  put(blob, rows_per_batch.data(), rows_per_batch.size());
  put(blob, logits.data(), logits.size());
  put(blob, targets.data(), targets.size());
  const int64_t id_count = with_ids ? total : 0;
  put(blob, &id_count, 1);
  for (int64_t i = 0; i < id_count; ++i) {
    const auto len = static_cast<int64_t>(ids[static_cast<size_t>(i)].size());
    put(blob, &len, 1);
    blob += ids[static_cast<size_t>(i)];
  }
  struct Shard {
    std::vector<int64_t> rows;
    std::vector<float> logits, targets;
    std::vector<std::string> ids;
  };
  std::vector<Shard> shards;
  for (const std::string& b : comm.allgather(blob)) {
    Shard sh;
    size_t at = 0;
    int64_t nb = 0, n = 0, nid = 0;
    get(b, at, &nb, 1);
    sh.rows.resize(static_cast<size_t>(nb));
    get(b, at, sh.rows.data(), sh.rows.size());
    for (int64_t r : sh.rows) n += r;
    sh.logits.resize(static_cast<size_t>(n * k));
    get(b, at, sh.logits.data(), sh.logits.size());
    sh.targets.resize(static_cast<size_t>(n * per_target));
    get(b, at, sh.targets.data(), sh.targets.size());
    get(b, at, &nid, 1);
    for (int64_t i = 0; i < nid; ++i) {
      int64_t len = 0;
      get(b, at, &len, 1);
      sh.ids.emplace_back(b.data() + at, static_cast<size_t>(len));
      at += static_cast<size_t>(len);
    }
    if (nb != batches) throw std::logic_error("evaluation gather: ranks saw different numbers of batches");
    shards.push_back(std::move(sh));
  }
  logits.clear(), targets.clear(), ids.clear();
  std::vector<int64_t> row_at(shards.size(), 0);
  for (int64_t b = 0; b < batches; ++b)
    for (size_t r = 0; r < shards.size(); ++r) {
      const Shard& sh = shards[r];
      const int64_t n = sh.rows[static_cast<size_t>(b)], at = row_at[r];
      logits.insert(logits.end(), sh.logits.begin() + at * k, sh.logits.begin() + (at + n) * k);
      targets.insert(targets.end(), sh.targets.begin() + at * per_target, sh.targets.begin() + (at + n) * per_target);
      if (static_cast<int64_t>(sh.ids.size()) >= at + n)
        ids.insert(ids.end(), sh.ids.begin() + at, sh.ids.begin() + at + n);
      row_at[r] = at + n;
    }
  if (ids.size() * static_cast<size_t>(k) != logits.size()) ids.clear();  // a shard without ids
}

}  // namespace

Trainer::Trainer(Network& net, TrainStep& step, StepOptimizer& optimizer, TrainConfig config)
    : net_(net), step_(step), optimizer_(optimizer), config_(std::move(config)) {}

void Trainer::load_rows(const float* images, const float* targets, int64_t n) {
  Backend& backend = net_.backend();
  const Tensor& input = step_.input();
  const int64_t full = input.dim(0);
  if (n == full) {
    backend.write_plain(step_.input(), images);
    backend.write_plain(step_.targets(), targets);
    return;
  }
  // A short final batch in eval: pad with zeros. Eval-mode layers treat samples independently,
  // so the padding does not change the real samples' outputs; callers ignore the padded rows.
  const int64_t per_image = input.numel() / full;
  const int64_t per_target = step_.targets().numel() / full;
  pad_images_.assign(static_cast<size_t>(input.numel()), 0.0f);
  pad_targets_.assign(static_cast<size_t>(step_.targets().numel()), 0.0f);
  std::memcpy(pad_images_.data(), images, sizeof(float) * static_cast<size_t>(n * per_image));
  std::memcpy(pad_targets_.data(), targets, sizeof(float) * static_cast<size_t>(n * per_target));
  backend.write_plain(step_.input(), pad_images_.data());
  backend.write_plain(step_.targets(), pad_targets_.data());
}

void Trainer::broadcast_state(bool buffers_only) {
  Communicator& c = comm();
  if (c.size() == 1) return;
  std::vector<float> host;
  for (const StateEntry& e : net_.state()) {
    if (buffers_only && e.param) continue;
    if (e.value->dtype() != DType::F32) {  // counters (num_batches_tracked): host memory
      c.broadcast(e.value->data(), e.value->numel() * dtype_size(e.value->dtype()), 0);
      continue;
    }
    host.resize(static_cast<size_t>(e.value->numel()));
    net_.backend().read_plain(*e.value, host.data());
    c.broadcast(host.data(), static_cast<int64_t>(host.size() * sizeof(float)), 0);
    net_.backend().write_plain(*e.value, host.data());
  }
}

EvalResult Trainer::evaluate(BatchSource& source) {
  const Shape input_shape = step_.input().shape();
  const Shape target_shape = step_.targets().shape();
  step_.prepare(input_shape, target_shape, /*training=*/false);
  const int64_t k = net_.graph().num_classes;
  const int64_t per_target = numel(target_shape) / input_shape[0];
  EvalResult out;
  Context ctx;
  ctx.training = false;
  source.start_epoch(0, 0);
  HostBatch batch;
  std::vector<float> logits(static_cast<size_t>(input_shape[0] * k));
  std::vector<float> all_logits, all_targets;  // every sample's, for the loss op
  const int64_t per_image = numel(input_shape) / input_shape[0];
  std::vector<int64_t> rows_per_batch;  // this rank's rows of each batch, for the gather
  while (source.next(batch)) {
    rows_per_batch.push_back(batch.n);
    // A rank's share of a batch may exceed the micro-batch the network is prepared for
    // (accumulate_steps > 1) or be empty (a short last batch over many ranks): eval-mode rows
    // are independent, so run it in chunks.
    for (int64_t at = 0; at < batch.n; at += input_shape[0]) {
      const int64_t rows = std::min(input_shape[0], batch.n - at);
      load_rows(batch.images + at * per_image, batch.targets + at * per_target, rows);
      step_.run(ctx);
      net_.backend().read_plain(step_.logits(), logits.data());
      for (int64_t i = 0; i < rows * k; ++i)
        if (!std::isfinite(logits[static_cast<size_t>(i)]))
          throw RuntimeFailure("non-finite network output during evaluation" +
                               (batch.ids.empty() ? std::string() : " (batch starting at " + batch.ids.front() + ")") +
                               ": the weights have diverged");
      all_logits.insert(all_logits.end(), logits.begin(), logits.begin() + rows * k);
    }
    all_targets.insert(all_targets.end(), batch.targets, batch.targets + batch.n * per_target);
    for (int64_t i = 0; i < batch.n; ++i)
      if (static_cast<size_t>(i) < batch.ids.size()) out.ids.push_back(batch.ids[static_cast<size_t>(i)]);
  }
  if (comm().size() > 1) gather_shards(comm(), rows_per_batch, k, per_target, all_logits, all_targets, out.ids);
  const auto n = static_cast<int64_t>(all_logits.size()) / k;
  if (n == 0) throw UsageError("evaluation data set is empty");
  // Calibrated scores: logits / T before the softmax/sigmoid and the loss (T = 1: unchanged).
  if (config_.temperature != 1.0)
    for (float& z : all_logits) z = static_cast<float>(z / config_.temperature);
  // The loss op itself, over all samples at once: validation loss has the training loss's
  // definition (class weights, label smoothing, pos_weight, masked labels), whatever the batching.
  out.loss = step_.loss_of(all_logits, all_targets, n);
  if (!std::isfinite(out.loss))
    throw RuntimeFailure("non-finite validation loss (" + std::to_string(out.loss) + ") over " + std::to_string(n) +
                         " samples: the weights have diverged");
  std::vector<double> flat_probs, flat_targets;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const float* z = all_logits.data() + i * k;
    std::vector<double> p(static_cast<size_t>(k)), t(static_cast<size_t>(k), 0.0);
    if (config_.multi_label) {
      for (int64_t c = 0; c < k; ++c) {
        p[static_cast<size_t>(c)] = 1.0 / (1.0 + std::exp(-static_cast<double>(z[c])));
        t[static_cast<size_t>(c)] = all_targets[static_cast<size_t>(i * k + c)];
      }
    } else {
      double mx = z[0];
      for (int64_t c = 1; c < k; ++c) mx = std::max(mx, static_cast<double>(z[c]));
      double sum = 0;
      for (int64_t c = 0; c < k; ++c) sum += std::exp(z[c] - mx);
      const auto label = static_cast<int64_t>(all_targets[static_cast<size_t>(i)]);
      for (int64_t c = 0; c < k; ++c) p[static_cast<size_t>(c)] = std::exp(z[c] - mx) / sum;
      t[static_cast<size_t>(label)] = 1.0;
      labels.push_back(label);
    }
    flat_probs.insert(flat_probs.end(), p.begin(), p.end());
    flat_targets.insert(flat_targets.end(), t.begin(), t.end());
    out.probs.push_back(std::move(p));
    out.targets.push_back(std::move(t));
  }
  out.logits.assign(all_logits.begin(), all_logits.end());
  std::vector<std::string> names = config_.class_names;
  for (int64_t c = static_cast<int64_t>(names.size()); c < k; ++c) names.push_back("class" + std::to_string(c));
  out.metrics = config_.multi_label ? multi_label_metrics(flat_probs, flat_targets, names)
                                    : single_label_metrics(flat_probs, labels, names);
  return out;
}

TrainPosition Trainer::run(BatchSource& train, BatchSource* val, RunSink& sink,
                           TrainPosition pos, const std::atomic<bool>& stop) {
  const Shape input_shape = step_.input().shape();
  const Shape target_shape = step_.targets().shape();
  const int64_t micro = input_shape[0];
  const int64_t micro_batches = std::max<int64_t>(1, config_.accumulate_steps);
  Communicator& world = comm();
  const int64_t share = micro * micro_batches;  // this rank's samples of each step
  const int64_t global_batch = share * world.size();
  const int64_t per_image = numel(input_shape) / micro;
  const int64_t per_target = numel(target_shape) / micro;
  // The 1-process, 1-micro-batch run keeps its gradients where backward left them.
  const bool reduce = micro_batches > 1 || world.size() > 1;
  // Mean over the global batch: each micro-batch's mean-loss gradient · 1/(K·N).
  const double grad_scale = 1.0 / static_cast<double>(micro_batches * world.size());
  const std::vector<std::string>& stages = net_.graph().stages;
  const int64_t batches = train.batches_per_epoch();
  if (batches < 1)
    throw UsageError("the training set has fewer samples than one batch of " + std::to_string(global_batch));
  broadcast_state(/*buffers_only=*/false);  // every rank starts from rank 0's weights
  Context ctx;
  // SyncBatchNorm allreduces in forward and backward on a communicator of its own: backward's run
  // while the reducer's thread allreduces buckets on `world`, and two threads' collectives on one
  // communicator could pair up differently on different ranks (layer.h, communicator.h).
  const std::unique_ptr<Communicator> batch_norm_group =
      config_.sync_batch_norm && world.size() > 1 ? world.duplicate() : nullptr;
  ctx.batch_norm_group = batch_norm_group.get();
  bool done = config_.max_steps >= 0 && pos.step >= config_.max_steps;
  while (!done && pos.epoch < config_.epochs) {
    step_.prepare(input_shape, target_shape, /*training=*/true);
    ctx.training = true;
    // After prepare: the gradients it planned are the ones reduced.
    std::unique_ptr<GradientReducer> reducer = reduce ? std::make_unique<GradientReducer>(net_, world) : nullptr;
    train.start_epoch(pos.epoch, pos.batch);
    HostBatch batch;
    while (train.next(batch)) {
      if (batch.n != share) continue;  // drop_last: BN statistics need full batches
      const auto t0 = Clock::now();
      ctx.step = pos.step;
      double loss_sum = 0;
      for (int64_t m = 0; m < micro_batches; ++m) {
        load_rows(batch.images + m * micro * per_image, batch.targets + m * micro * per_target, micro);
        if (reducer) reducer->begin_micro_batch(m, micro_batches);
        ctx.backward_observer = reducer.get();
        loss_sum += step_.run(ctx);
        ctx.backward_observer = nullptr;
        if (reducer) reducer->end_micro_batch();
      }
      if (reducer) reducer->finish(grad_scale);
      // One reduction agrees on the loss and on stopping (a signal may reach the ranks at
      // different steps): every rank stops after the same step.
      double agreed[2] = {loss_sum, stop.load() ? 1.0 : 0.0};
      world.allreduce_sum(agreed, 2);
      const double loss = agreed[0] / static_cast<double>(micro_batches * world.size());
      const bool stopping = agreed[1] > 0;
      const GradNorms norms = grad_norms(net_.backend(), net_.parameters(), stages);
      if (!std::isfinite(loss) || !norms.finite) {
        // The update was not applied: the weights are those before this step. Save them when
        // the forward pass did not poison the BN statistics; otherwise the previous "last" stays.
        if (state_finite(net_)) sink.save_checkpoint("last", pos);
        world.barrier();  // rank 0's checkpoint is complete before any rank ends the run
        throw RuntimeFailure("non-finite " + std::string(std::isfinite(loss) ? "gradient" : "loss") +
                             " at step " + std::to_string(pos.step) + " (epoch " +
                             std::to_string(pos.epoch) + ")" +
                             (norms.finite ? "" : ", first in stage " + norms.first_nonfinite_stage) +
                             checkpoint_note(sink));
      }
      if (config_.grad_clip > 0 && norms.total > config_.grad_clip) {
        const double factor = config_.grad_clip / (norms.total + 1e-6);  // torch clip_grad_norm_
        for (Parameter* p : net_.parameters())
          if (p->trainable) net_.backend().scale(p->grad, factor);
      }
      StepRecord rec;
      rec.epoch = pos.epoch;
      rec.step = pos.step;
      rec.loss = loss;
      rec.lr = optimizer_.step(pos.step);
      broadcast_state(/*buffers_only=*/true);  // BN running statistics: rank 0's, as DDP
      net_.backend().synchronize();
      rec.grad_norm = norms;
      rec.data_wait_s = batch.wait_s;
      rec.images_per_s = static_cast<double>(global_batch) / seconds_since(t0);
      sink.on_step(rec);

      pos.epoch_loss_sum += loss;
      for (const auto& [stage, v] : norms.stage) {
        pos.epoch_grad_sum[stage] += v;
        pos.epoch_grad_last[stage] = v;
      }
      pos.step++;
      pos.batch++;
      sink.on_progress(pos.epoch, pos.batch, batches, loss, rec.images_per_s);
      done = config_.max_steps >= 0 && pos.step >= config_.max_steps;
      if (config_.checkpoint_every > 0 && pos.step % config_.checkpoint_every == 0 && !done)
        sink.save_checkpoint("last", pos);
      if (stopping) {
        sink.save_checkpoint("last", pos);
        world.barrier();
        throw Interrupted("interrupted at step " + std::to_string(pos.step) + "; resume with --resume (" +
                          sink.last_checkpoint() + ")");
      }
      if (done) break;
    }
    reducer.reset();

    EpochRecord er;
    er.epoch = pos.epoch;
    er.train_loss = pos.batch > 0 ? pos.epoch_loss_sum / static_cast<double>(pos.batch) : 0.0;
    for (const std::string& s : stages) {
      er.grad_norm_mean[s] = pos.batch > 0 ? pos.epoch_grad_sum[s] / static_cast<double>(pos.batch) : 0.0;
      er.grad_norm_last[s] = pos.epoch_grad_last[s];
    }
    bool improved = false;
    if (val) {
      er.val = evaluate(*val);
      const double auroc = er.val->metrics.macro_auroc;
      improved = std::isfinite(auroc) && auroc > pos.best_auroc;
      if (improved) pos.best_auroc = auroc;
    }
    sink.on_epoch(er);
    pos.epochs_without_improvement = improved || !val ? 0 : pos.epochs_without_improvement + 1;
    if (done && pos.batch < batches) {
      // Stopped by max_steps inside the epoch: keep the position there, so that a resumed run
      // with a larger budget continues with the same batches as a run never stopped.
      if (improved) sink.save_checkpoint("best", pos);
      sink.save_checkpoint("last", pos);
      break;
    }
    pos.epoch++;
    pos.batch = 0;
    pos.epoch_loss_sum = 0;
    pos.epoch_grad_sum.clear();
    pos.epoch_grad_last.clear();
    if (improved) sink.save_checkpoint("best", pos);
    sink.save_checkpoint("last", pos);
    if (config_.early_stopping > 0 && pos.epochs_without_improvement >= config_.early_stopping) break;
  }
  return pos;
}

}  // namespace cxr
