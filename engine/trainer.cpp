#include "engine/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/errors.h"

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

}  // namespace

Trainer::Trainer(Network& net, TrainStep& step, StepOptimizer& optimizer, TrainConfig config)
    : net_(net), step_(step), optimizer_(optimizer), config_(std::move(config)) {}

void Trainer::load_batch(const HostBatch& batch) {
  Backend& backend = net_.backend();
  const Tensor& input = step_.input();
  const int64_t full = input.dim(0);
  if (batch.n == full) {
    backend.write_plain(step_.input(), batch.images);
    backend.write_plain(step_.targets(), batch.targets);
    return;
  }
  // A short final batch in eval: pad with zeros. Eval-mode layers treat samples independently,
  // so the padding does not change the real samples' outputs; callers ignore the padded rows.
  const int64_t per_image = input.numel() / full;
  const int64_t per_target = step_.targets().numel() / full;
  pad_images_.assign(static_cast<size_t>(input.numel()), 0.0f);
  pad_targets_.assign(static_cast<size_t>(step_.targets().numel()), 0.0f);
  std::memcpy(pad_images_.data(), batch.images, sizeof(float) * static_cast<size_t>(batch.n * per_image));
  std::memcpy(pad_targets_.data(), batch.targets, sizeof(float) * static_cast<size_t>(batch.n * per_target));
  backend.write_plain(step_.input(), pad_images_.data());
  backend.write_plain(step_.targets(), pad_targets_.data());
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
  while (source.next(batch)) {
    if (batch.n > input_shape[0] || batch.n < 1)
      throw std::logic_error("evaluation batch of " + std::to_string(batch.n) + " samples for a network prepared for " +
                             std::to_string(input_shape[0]));
    load_batch(batch);
    step_.run(ctx);
    net_.backend().read_plain(step_.logits(), logits.data());
    for (int64_t i = 0; i < batch.n * k; ++i)
      if (!std::isfinite(logits[static_cast<size_t>(i)]))
        throw RuntimeFailure("non-finite network output during evaluation" +
                             (batch.ids.empty() ? std::string() : " (batch starting at " + batch.ids.front() + ")") +
                             ": the weights have diverged");
    all_logits.insert(all_logits.end(), logits.begin(), logits.begin() + batch.n * k);
    all_targets.insert(all_targets.end(), batch.targets, batch.targets + batch.n * per_target);
    for (int64_t i = 0; i < batch.n; ++i)
      if (static_cast<size_t>(i) < batch.ids.size()) out.ids.push_back(batch.ids[static_cast<size_t>(i)]);
  }
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
  const int64_t batch_size = input_shape[0];
  const std::vector<std::string>& stages = net_.graph().stages;
  const int64_t batches = train.batches_per_epoch();
  if (batches < 1)
    throw UsageError("the training set has fewer samples than one batch of " + std::to_string(batch_size));
  Context ctx;
  bool done = config_.max_steps >= 0 && pos.step >= config_.max_steps;
  while (!done && pos.epoch < config_.epochs) {
    step_.prepare(input_shape, target_shape, /*training=*/true);
    ctx.training = true;
    train.start_epoch(pos.epoch, pos.batch);
    HostBatch batch;
    while (train.next(batch)) {
      if (batch.n != batch_size) continue;  // drop_last: BN statistics need full batches
      const auto t0 = Clock::now();
      load_batch(batch);
      ctx.step = pos.step;
      const double loss = step_.run(ctx);
      const GradNorms norms = grad_norms(net_.backend(), net_.parameters(), stages);
      if (!std::isfinite(loss) || !norms.finite) {
        // The update was not applied: the weights are those before this step. Save them when
        // the forward pass did not poison the BN statistics; otherwise the previous "last" stays.
        if (state_finite(net_)) sink.save_checkpoint("last", pos);
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
      net_.backend().synchronize();
      rec.grad_norm = norms;
      rec.data_wait_s = batch.wait_s;
      rec.images_per_s = static_cast<double>(batch_size) / seconds_since(t0);
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
      if (stop.load()) {
        sink.save_checkpoint("last", pos);
        throw Interrupted("interrupted at step " + std::to_string(pos.step) + "; resume with --resume (" +
                          sink.last_checkpoint() + ")");
      }
      if (done) break;
    }

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
