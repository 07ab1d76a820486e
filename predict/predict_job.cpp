#include "predict/predict_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/errors.h"
#include "io/loader.h"
#include "predict/cam_files.h"
#include "predict/grad_cam.h"
#include "predict/input_list.h"
#include "predict/predictions_csv.h"
#include "predict/scoring.h"

namespace cxr {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

ScoringRule scoring_rule(const CheckpointModel& m, const PredictOptions& o) {
  ScoringRule r{m.multi_label, m.temperature, m.thresholds};
  if (o.threshold) {
    if (!m.multi_label)
      throw UsageError("--threshold applies to multi-label (loss bce) checkpoints; " + m.checkpoint +
                       " is single-label: its prediction is the most probable class");
    if (!(*o.threshold >= 0 && *o.threshold <= 1)) throw UsageError("--threshold must lie in [0, 1]");
    r.thresholds.assign(m.classes.size(), *o.threshold);
  }
  return r;
}

int64_t cam_class_index(const CheckpointModel& m, const std::string& name) {
  if (name.empty()) return -1;
  std::string known;
  for (size_t k = 0; k < m.classes.size(); ++k) {
    if (m.classes[k] == name) return static_cast<int64_t>(k);
    known += (k ? ", " : "") + m.classes[k];
  }
  throw UsageError("--cam-class " + name + ": the checkpoint's classes are " + known);
}

}  // namespace

PredictSummary run_predict(CheckpointModel& m, const PredictOptions& o) {
  const ScoringRule rule = scoring_rule(m, o);
  const int64_t cam_class = cam_class_index(m, o.cam_class);
  const int64_t batch = o.batch > 0 ? o.batch : m.recipe.train.batch_size;
  if (o.on_bad_file != "" && o.on_bad_file != "skip" && o.on_bad_file != "fail")
    throw UsageError("--on-bad-file " + o.on_bad_file + ": give skip or fail");

  Dataset data;
  data.root = "the predict inputs";
  data.classes = m.classes;
  for (PredictInput& in : list_inputs(o.inputs)) data.samples.push_back({std::move(in.path), std::move(in.relative), 0, {}, {}});
  LoaderConfig lc = m.preprocessing;
  lc.batch_size = batch;
  lc.shuffle = false;
  lc.drop_last = false;
  lc.cache = false;
  lc.disk_cache_dir.clear();  // new images are not training data: nothing is cached for them
  lc.skip_bad_files = (o.on_bad_file.empty() ? m.recipe.data.on_bad_file : o.on_bad_file) == "skip";
  const auto listed = static_cast<int64_t>(data.samples.size());

  const auto t0 = Clock::now();
  Loader loader(std::move(data), lc);
  // The workers start decoding the first batches now, while net.prepare builds the primitives.
  loader.start_epoch(0, 0);
  Network& net = *m.model.network;
  std::unique_ptr<GradCam> cam;
  if (!o.cam_dir.empty()) cam = std::make_unique<GradCam>(net);
  const int64_t channels = m.recipe.model.in_channels, size = m.recipe.data.image_size, k = net.graph().num_classes;
  net.prepare({batch, channels, size, size}, false);
  PredictionsCsv csv(o.out, m.classes);
  PredictSummary summary;
  summary.skipped = loader.skipped_files();
  summary.setup_seconds = since(t0);
  const int64_t total = listed - summary.skipped, per_image = channels * size * size;
  Context ctx;
  ctx.training = false;
  std::vector<float> padded(static_cast<size_t>(batch * per_image), 0.0f), logits(static_cast<size_t>(batch * k));
  HostBatch b;
  std::vector<double> full_batch_seconds;
  for (auto tw = Clock::now(); loader.next(b); tw = Clock::now()) {
    summary.wait_seconds += since(tw);
    const auto tn = Clock::now();
    // A short last batch is padded with zeros: eval-mode layers treat samples independently.
    const float* images = b.images;
    if (b.n < batch) {
      std::memcpy(padded.data(), b.images, sizeof(float) * static_cast<size_t>(b.n * per_image));
      std::fill(padded.begin() + b.n * per_image, padded.end(), 0.0f);
      images = padded.data();
    }
    net.backend().write_plain(net.input(), images);
    net.backend().read_plain(net.forward(ctx), logits.data());
    const double forward = since(tn);
    summary.network_seconds += forward;
    if (summary.scored == 0) summary.first_batch_network_seconds = forward;
    if (b.n == batch) full_batch_seconds.push_back(forward);  // 8 bytes a batch: memory stays flat
    std::vector<int64_t> explain;
    for (int64_t i = 0; i < b.n; ++i) {
      const float* z = logits.data() + i * k;
      for (int64_t c = 0; c < k; ++c)
        if (!std::isfinite(z[c])) throw RuntimeFailure("predict: non-finite output for " + b.ids[static_cast<size_t>(i)] + ": the weights have diverged");
      const std::vector<double> p = probabilities(z, k, rule);
      csv.add(b.ids[static_cast<size_t>(i)], p, predicted_classes(p, rule));
      explain.push_back(cam_class >= 0 ? cam_class : top_class(p));
    }
    if (cam) {
      const auto tc = Clock::now();
      const std::vector<float> maps = cam->compute(explain, ctx);
      summary.cam_compute_seconds += since(tc);
      const int64_t hw = cam->height() * cam->width();
      for (int64_t i = 0; i < b.n; ++i)
        write_cam_files(o.cam_dir, b.ids[static_cast<size_t>(i)], maps.data() + i * hw, cam->height(), cam->width(),
                        display_from_input(b.images + i * per_image, channels, size));
      summary.cam_seconds += since(tc);
    }
    summary.scored += b.n;
    if (o.on_progress) o.on_progress(summary.scored, total);
  }
  csv.finish();
  summary.seconds = since(t0);
  if (!full_batch_seconds.empty()) {
    auto mid = full_batch_seconds.begin() + static_cast<std::ptrdiff_t>(full_batch_seconds.size() / 2);
    std::nth_element(full_batch_seconds.begin(), mid, full_batch_seconds.end());
    summary.median_batch_network_seconds = *mid;
  }
  return summary;
}

}  // namespace cxr
