#include <yaml-cpp/yaml.h>

#include <sstream>

#include "recipes/recipe_parser.h"

namespace cxr {
namespace {

// Shortest decimal that reads back as the same double.
std::string num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

std::string recipe_to_yaml(const Recipe& r) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "arch" << YAML::Value << r.model.arch;
  e << YAML::Key << "weights" << YAML::Value;
  if (r.model.weights) e << *r.model.weights; else e << YAML::Null;
  e << YAML::Key << "num_classes" << YAML::Value << r.model.num_classes;
  e << YAML::Key << "in_channels" << YAML::Value << r.model.in_channels;
  e << YAML::Key << "max_tensor_mib" << YAML::Value << r.model.max_tensor_mib << YAML::EndMap;

  const DataRecipe& d = r.data;
  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "format" << YAML::Value;
  if (d.format.empty()) e << YAML::Null; else e << d.format;
  e << YAML::Key << "images" << YAML::Value;
  if (d.images) e << *d.images; else e << YAML::Null;
  e << YAML::Key << "labels" << YAML::Value << YAML::Flow << d.labels;
  e << YAML::Key << "uncertain" << YAML::Value << d.uncertain;
  e << YAML::Key << "views" << YAML::Value << YAML::Flow << d.views;
  e << YAML::Key << "train" << YAML::Value << d.train;
  e << YAML::Key << "val" << YAML::Value;
  if (d.val) e << *d.val; else e << YAML::Null;
  e << YAML::Key << "test" << YAML::Value;
  if (d.test) e << *d.test; else e << YAML::Null;
  e << YAML::Key << "image_size" << YAML::Value << d.image_size;
  e << YAML::Key << "augment" << YAML::Value << d.augment;
  e << YAML::Key << "hflip" << YAML::Value << d.hflip;
  e << YAML::Key << "shuffle" << YAML::Value << d.shuffle;
  e << YAML::Key << "workers" << YAML::Value << d.workers;
  e << YAML::Key << "cache" << YAML::Value << d.cache;
  e << YAML::Key << "cache_dir" << YAML::Value;
  if (d.cache_dir) e << *d.cache_dir; else e << YAML::Null;
  e << YAML::Key << "on_bad_file" << YAML::Value << d.on_bad_file;
  e << YAML::Key << "val_split" << YAML::Value << num(d.val_split);
  e << YAML::Key << "max_image_pixels" << YAML::Value << d.max_image_pixels << YAML::EndMap;

  const TrainRecipe& t = r.train;
  e << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "epochs" << YAML::Value << t.epochs;
  e << YAML::Key << "max_steps" << YAML::Value;
  if (t.max_steps) e << *t.max_steps; else e << YAML::Null;
  e << YAML::Key << "batch_size" << YAML::Value << t.batch_size;
  e << YAML::Key << "seed" << YAML::Value << t.seed;
  e << YAML::Key << "backend" << YAML::Value << t.backend;
  e << YAML::Key << "precision" << YAML::Value << t.precision;
  e << YAML::Key << "conv_algorithm" << YAML::Value << t.conv_algorithm;
  e << YAML::Key << "checkpoint_every" << YAML::Value;
  if (t.checkpoint_every > 0) e << t.checkpoint_every; else e << "epoch";
  e << YAML::Key << "grad_clip" << YAML::Value << num(t.grad_clip);
  e << YAML::Key << "early_stopping" << YAML::Value << t.early_stopping;
  e << YAML::Key << "threads" << YAML::Value << t.threads;
  e << YAML::Key << "log_every" << YAML::Value << t.log_every;
  e << YAML::Key << "accumulate_steps" << YAML::Value << t.accumulate_steps;
  e << YAML::Key << "sync_bn" << YAML::Value << t.sync_bn;
  e << YAML::Key << "activation_checkpointing" << YAML::Value;
  if (t.activation_checkpointing == "list") {
    e << YAML::Flow << YAML::BeginSeq;
    for (const std::string& stage : t.checkpoint_stages) e << stage;
    e << YAML::EndSeq;
  } else {
    e << t.activation_checkpointing;
  }
  e << YAML::Key << "memory_limit_gib" << YAML::Value;
  if (t.memory_limit_gib) e << num(*t.memory_limit_gib); else e << YAML::Null;
  e << YAML::EndMap;

  const OptimizerRecipe& o = r.optimizer;
  e << YAML::Key << "optimizer" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << o.name;
  e << YAML::Key << "lr" << YAML::Value << num(o.lr);
  e << YAML::Key << "weight_decay" << YAML::Value << num(o.weight_decay);
  e << YAML::Key << "momentum" << YAML::Value << num(o.momentum);
  e << YAML::Key << "nesterov" << YAML::Value << o.nesterov;
  e << YAML::Key << "beta1" << YAML::Value << num(o.beta1);
  e << YAML::Key << "beta2" << YAML::Value << num(o.beta2);
  e << YAML::Key << "eps" << YAML::Value << num(o.eps);
  e << YAML::Key << "layer_decay" << YAML::Value << num(o.layer_decay);
  e << YAML::Key << "freeze" << YAML::Value << YAML::Flow << o.freeze;
  e << YAML::Key << "stage_lr" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : o.stage_lr) e << YAML::Key << k << YAML::Value << num(v);
  e << YAML::EndMap;
  e << YAML::Key << "decay_bn_and_bias" << YAML::Value << o.decay_bn_and_bias << YAML::EndMap;

  e << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << r.schedule.name;
  e << YAML::Key << "warmup_steps" << YAML::Value << r.schedule.warmup_steps;
  e << YAML::Key << "min_lr" << YAML::Value << num(r.schedule.min_lr);
  e << YAML::Key << "pct_start" << YAML::Value << num(r.schedule.pct_start) << YAML::EndMap;

  e << YAML::Key << "loss" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << r.loss.name;
  e << YAML::Key << "class_weights" << YAML::Value;
  if (r.loss.class_weights == "list") {
    e << YAML::Flow << YAML::BeginSeq;
    for (double w : r.loss.class_weight_values) e << num(w);
    e << YAML::EndSeq;
  } else {
    e << r.loss.class_weights;
  }
  e << YAML::Key << "label_smoothing" << YAML::Value << num(r.loss.label_smoothing) << YAML::EndMap;
  e << YAML::Key << "report" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "images" << YAML::Value << r.report.images << YAML::EndMap;
  e << YAML::Key << "eval" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "subgroups" << YAML::Value << YAML::Flow << r.eval.subgroups;
  e << YAML::Key << "subgroup_min_size" << YAML::Value << r.eval.subgroup_min_size << YAML::EndMap;
  e << YAML::Key << "plugins" << YAML::Value << YAML::Flow << r.plugins;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace cxr
