#include "job/run_writer.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "job/metrics_json.h"
#include "core/atomic_file.h"
#include "engine/operating_point_selection.h"

namespace cxr {
namespace {

using nlohmann::json;

// NaN/Inf become null: JSON has no such numbers, and a reader must see "undefined", not 0.
json number(double v) { return number_json(v); }

json stage_map(const std::map<std::string, double>& values) {
  json j = json::object();
  for (const auto& [k, v] : values) j[k] = number(v);
  return j;
}

}  // namespace

json youden_thresholds(const EvalResult& v) {
  json out = json::array();
  const size_t k = v.probs.empty() ? 0 : v.probs.front().size();
  for (size_t c = 0; c < k; ++c) {
    std::vector<double> scores;
    std::vector<bool> positive;
    for (size_t i = 0; i < v.probs.size(); ++i) {
      if (v.targets[i][c] < 0) continue;  // an ignored label
      scores.push_back(v.probs[i][c]);
      positive.push_back(v.targets[i][c] > 0.5);
    }
    const auto pos = std::count(positive.begin(), positive.end(), true);
    if (pos == 0 || pos == static_cast<std::ptrdiff_t>(positive.size())) {
      out.push_back(0.5);  // no ROC without both kinds: the plain decision threshold
      continue;
    }
    out.push_back(number_json(choose_threshold(scores, positive).threshold));
  }
  return out;
}

RunWriter::RunWriter(std::string run_dir, std::vector<std::string> stages, int64_t batch_size,
                     SaveCheckpoint save, DescribeLast describe_last, JobObserver& observer)
    : dir_(std::move(run_dir)),
      stages_(std::move(stages)),
      batch_size_(batch_size),
      save_(std::move(save)),
      describe_last_(std::move(describe_last)),
      observer_(observer) {}

void RunWriter::on_step(const StepRecord& r) {
  json grad = stage_map(r.grad_norm.stage);
  grad["total"] = number(r.grad_norm.total);
  const json line = {{"kind", "step"},       {"epoch", r.epoch},
                     {"step", r.step},       {"loss", number(r.loss)},
                     {"lr", stage_map(r.lr)}, {"grad_norm", grad},
                     {"images_per_s", number(r.images_per_s)},
                     {"data_wait_s", number(r.data_wait_s)}};
  append_line_durable(dir_ + "/metrics.jsonl", line.dump());
  smoothed_loss_ = smoothed_loss_ < 0 ? r.loss : 0.9 * smoothed_loss_ + 0.1 * r.loss;
}

void RunWriter::on_epoch(const EpochRecord& r) {
  json line = {{"kind", "epoch"},
               {"epoch", r.epoch},
               {"train_loss", number(r.train_loss)},
               {"grad_norm_mean", stage_map(r.grad_norm_mean)},
               {"grad_norm_last", stage_map(r.grad_norm_last)}};
  if (r.val) {
    const ClassificationMetrics& m = r.val->metrics;
    line["val_loss"] = number(r.val->loss);
    line["val_accuracy"] = number(m.accuracy);
    line["val_auroc"] = number(m.macro_auroc);
    line["val_per_class"] = per_class_json(m);
    if (!m.confusion.empty()) line["val_confusion"] = m.confusion;
    pending_ = r;
  }
  append_line_durable(dir_ + "/metrics.jsonl", line.dump());
  observer_.on_epoch(r);
}

void RunWriter::save_checkpoint(const std::string& name, const TrainPosition& position) {
  if (name == "best" && pending_ && pending_->val) {
    const EvalResult& v = *pending_->val;
    json preds = {{"epoch", pending_->epoch}, {"checkpoint", "best"}, {"classes", json::array()}, {"ids", v.ids},
                  {"targets", v.targets}, {"scores", v.probs}};
    for (const ClassMetrics& c : v.metrics.classes) preds["classes"].push_back(c.name);
    write_file_atomic(dir_ + "/val_predictions.json", preds.dump());
    best_extra_ = {{"thresholds", youden_thresholds(v).dump()}};
    best_step_ = position.step;
    pending_.reset();
    save_(name, position, best_extra_);
    return;
  }
  // "last" at the best save's position holds the same weights: the same metadata lets the store
  // reuse that checkpoint instead of writing it twice.
  static const std::map<std::string, std::string> none;
  save_(name, position, position.step == best_step_ ? best_extra_ : none);
}

void RunWriter::on_progress(int64_t epoch, int64_t batch, int64_t batches, double, double) {
  observer_.on_progress(epoch, batch, batches, smoothed_loss_);
}

void RunWriter::write_weight_change(const std::map<std::string, double>& change) {
  write_file_atomic(dir_ + "/weight_change.json", stage_map(change).dump(2));
}

}  // namespace cxr
