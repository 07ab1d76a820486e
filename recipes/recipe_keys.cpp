#include "recipes/recipe_keys.h"

namespace cxr {

const std::vector<std::string>& recipe_keys() {
  static const std::vector<std::string> keys{
      "model.arch", "model.weights", "model.num_classes", "model.in_channels", "model.max_tensor_mib",
      "data.format", "data.images", "data.labels", "data.uncertain", "data.views", "data.train", "data.val",
      "data.test", "data.image_size", "data.augment", "data.hflip", "data.shuffle", "data.workers", "data.cache",
      "data.cache_dir", "data.on_bad_file", "data.val_split", "data.max_image_pixels",
      "train.epochs", "train.max_steps", "train.batch_size", "train.seed", "train.backend", "train.precision",
      "train.conv_algorithm", "train.checkpoint_every", "train.grad_clip", "train.early_stopping",
      "train.threads", "train.log_every", "train.accumulate_steps", "train.sync_bn",
      "train.activation_checkpointing", "train.memory_limit_gib",
      "optimizer.name", "optimizer.lr", "optimizer.weight_decay", "optimizer.momentum", "optimizer.nesterov",
      "optimizer.beta1", "optimizer.beta2", "optimizer.eps", "optimizer.layer_decay", "optimizer.freeze",
      "optimizer.stage_lr", "optimizer.decay_bn_and_bias",
      "schedule.name", "schedule.warmup_steps", "schedule.min_lr", "schedule.pct_start",
      "loss.name", "loss.class_weights", "loss.label_smoothing",
      "report.images",
      "eval.subgroups", "eval.subgroup_min_size",
      "plugins",
  };
  return keys;
}

std::vector<std::string> recipe_keys_in(const std::string& section) {
  std::vector<std::string> out;
  for (const std::string& k : recipe_keys()) {
    const size_t dot = k.rfind('.');
    const std::string parent = dot == std::string::npos ? "" : k.substr(0, dot);
    if (parent == section) out.push_back(dot == std::string::npos ? k : k.substr(dot + 1));
  }
  return out;
}

}  // namespace cxr
