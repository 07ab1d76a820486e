#include "job/model_setup.h"

#include <cstdio>
#include <thread>

#include "core/errors.h"
#include "engine/init.h"
#include "engine/resnet.h"
#include "io/dataset_layouts.h"
#include "io/manifest.h"
#include "io/weights/apply.h"
#include "io/weights/torchvision_files.h"
#include "io/weights/weights_file.h"
#include "plugins/backends.h"
#include "engine/ops/bce_with_logits.h"
#include "engine/ops/softmax_cross_entropy.h"
#include "recipes/data_request.h"

namespace cxr {

JobModel make_model(const Recipe& r, const std::vector<std::string>& plugins) {
  JobModel m;
  register_all_layers(*m.registry);
  for (const std::string& p : r.plugins) load_plugin(p, *m.registry);
  for (const std::string& p : plugins) load_plugin(p, *m.registry);
  const int threads = r.train.threads > 0 ? static_cast<int>(r.train.threads)
                                          : static_cast<int>(std::thread::hardware_concurrency());
  m.backend = make_backend(r.train.backend, threads, precision_dtype(r.train.precision), r.train.conv_algorithm);
  ResNetConfig rc;
  rc.arch = r.model.arch;
  rc.num_classes = r.model.num_classes;
  rc.in_channels = r.model.in_channels;
  m.network = std::make_unique<Network>(build_resnet(rc), *m.registry, *m.backend);
  return m;
}

void initialise_weights(JobModel& m, const Recipe& r) {
  const auto seed = static_cast<uint64_t>(r.train.seed);
  init_torchvision(*m.network, seed);
  if (!r.model.weights) {
    m.weights_note = "fresh initialisation (torchvision's Kaiming init), seed " + std::to_string(seed);
    return;
  }
  const std::string path = *r.model.weights == "torchvision" ? find_torchvision_weights(r.model.arch) : *r.model.weights;
  const LoadReport report = apply_state_dict(*m.network, read_weights(path, input_limits(r)), {true, path});
  if (report.head_replaced) init_torchvision_module(*m.network, "fc", seed);
  m.weights_note = "pretrained: " + path + " (" + std::to_string(report.loaded) + " tensors)";
  for (const std::string& n : report.notes) m.weights_note += "; " + n;
}

std::unique_ptr<OpParams> make_loss(const Recipe& r, const Dataset& train) {
  if ((r.loss.name == "bce") != train.multi_label)
    throw UsageError(std::string("loss.name: ") + r.loss.name + " does not fit " +
                     (train.multi_label ? "a multi-label manifest (use bce)" : "single-label data (use cross_entropy)"));
  if (r.loss.name == "bce") {
    auto b = std::make_unique<ops::BceWithLogitsParams>();
    // auto: pos_weight = negatives / positives per label (the usual remedy for rare findings),
    // masked targets counted as neither.
    if (r.loss.class_weights == "auto")
      for (double w : train.bce_pos_weights()) b->pos_weight.push_back(static_cast<float>(w));
    if (r.loss.class_weights == "list")
      for (double w : r.loss.class_weight_values) b->pos_weight.push_back(static_cast<float>(w));
    return b;
  }
  auto p = std::make_unique<ops::SoftmaxCrossEntropyParams>();
  p->label_smoothing = r.loss.label_smoothing;
  std::vector<double> w;
  if (r.loss.class_weights == "auto") w = train.class_weights();
  if (r.loss.class_weights == "list") w = r.loss.class_weight_values;
  if (!w.empty() && static_cast<int64_t>(w.size()) != r.model.num_classes)
    throw UsageError("loss.class_weights: " + std::to_string(w.size()) + " weights for " +
                     std::to_string(r.model.num_classes) + " classes");
  for (double v : w) p->class_weights.push_back(static_cast<float>(v));
  return p;
}

LoaderConfig loader_config(const Recipe& r, bool training) {
  LoaderConfig c;
  c.batch_size = r.train.batch_size;
  c.transform.size = r.data.image_size;
  c.transform.channels = r.model.in_channels;
  c.transform.augment = training && r.data.augment == "standard";
  c.transform.hflip = r.data.hflip;
  c.shuffle = training && r.data.shuffle;
  c.drop_last = training;
  c.seed = static_cast<uint64_t>(r.train.seed);
  c.workers = static_cast<int>(std::max<int64_t>(1, r.data.workers));
  c.cache = r.data.cache == "memory";
  if (r.data.cache == "disk") c.disk_cache_dir = r.data.cache_dir.value_or(default_disk_cache_dir());
  c.skip_bad_files = r.data.on_bad_file == "skip";
  c.limits = input_limits(r);
  return c;
}

InputLimits input_limits(const Recipe& r) {
  InputLimits l;
  l.max_image_pixels = r.data.max_image_pixels;
  l.max_tensor_bytes = r.model.max_tensor_mib << 20;
  return l;
}

JobData make_data(const Recipe& r, int rank, int ranks) {
  // Every layout (folder, manifest, NIH, CheXpert, MIMIC-CXR-JPG, RSNA) through the one resolver
  // that `cxrtune dataset` prints, so a dry run shows exactly what training uses.
  ResolvedData resolved = resolve_dataset(layout_request(r));
  if (rank == 0) std::fprintf(stderr, "%s", resolved.summary.text().c_str());
  Dataset train = std::move(resolved.splits.train), val = std::move(resolved.splits.val);
  if (static_cast<int64_t>(train.classes.size()) != r.model.num_classes)
    throw UsageError("model.num_classes is " + std::to_string(r.model.num_classes) + " but " + r.data.train + " has " +
                     std::to_string(train.classes.size()) + (train.multi_label ? " labels" : " classes") + " (" +
                     train.summary() + ")");
  JobData d;
  LoaderConfig train_config = loader_config(r, true), val_config = loader_config(r, false);
  train_config.rank = val_config.rank = rank;
  train_config.ranks = val_config.ranks = ranks;
  d.train = std::make_unique<Loader>(std::move(train), train_config);
  d.val = std::make_unique<Loader>(std::move(val), val_config);
  // After the loaders: with data.on_bad_file: skip they have left out what they could not read.
  const int64_t skipped = d.train->skipped_files() + d.val->skipped_files();
  if (rank == 0) std::fprintf(stderr, "data: train %s; val %s%s\n", d.train->dataset().summary().c_str(),
               d.val->dataset().summary().c_str(),
               skipped ? ("; " + std::to_string(skipped) + " unreadable files left out").c_str() : "");
  if (d.train->batches_per_epoch() < 1)
    throw UsageError("data: " + std::to_string(d.train->dataset().samples.size()) + " training images are fewer than one batch of " +
                     std::to_string(r.train.batch_size));
  return d;
}

}  // namespace cxr
