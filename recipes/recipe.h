// The recipe of a training run (docs/recipe.md), as plain typed structs. Parsed from
// YAML by recipe_parser.h; defaults here are the contract's defaults.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cxr {

struct ModelRecipe {
  std::string arch = "resnet50";
  std::optional<std::string> weights;  // path, "torchvision", or none (fresh init)
  int64_t num_classes = 2;
  int64_t in_channels = 3;
  int64_t max_tensor_mib = 2048;  // a weights tensor larger than this is refused (io/input_limits.h)
};

struct DataRecipe {
  // "" = detected from data.train (io/dataset_layouts.h): folder | manifest | nih | chexpert |
  // mimic-cxr-jpg | rsna-pneumonia.
  std::string format;
  std::optional<std::string> images;  // the image folder of the official layouts (default per layout)
  std::vector<std::string> labels;    // subset and order of the layout's labels; empty: all
  std::vector<std::string> labels_where;  // per label: "FILE:LINE:COL" or the --set that set it
  std::string uncertain = "ignore";   // CheXpert/MIMIC −1: ignore (masked) | ones | zeros
  std::vector<std::string> views;     // keep these views (PA, AP, LATERAL, ...); empty: all
  std::string train = "data/train";
  std::optional<std::string> val = "data/val";
  std::optional<std::string> test;
  int64_t image_size = 224;
  std::string augment = "none";  // none | standard
  bool hflip = false;            // standard augmentation only; off: the heart is on one side
  bool shuffle = true;
  int64_t workers = 1;
  std::string cache = "none";    // none | memory | disk
  std::optional<std::string> cache_dir;  // disk cache folder; unset: ~/.cache/cxrtune/images
  std::string on_bad_file = "fail";  // fail | skip
  double val_split = 0.0;        // > 0: validation is this seeded fraction of train (val ignored)
  int64_t max_image_pixels = int64_t{8192} * 8192;  // a larger decoded frame is refused (io/input_limits.h)
};

struct TrainRecipe {
  int64_t epochs = 5;
  std::optional<int64_t> max_steps;
  int64_t batch_size = 32;
  int64_t seed = 0;
  std::string backend = "auto";    // cpu | cuda | auto
  std::string precision = "f32";   // f32 | bf16 (CPUs with AVX512_BF16/AMX, GPUs) | f16 (GPUs)
  std::string conv_algorithm = "direct";  // direct | winograd (oneDNN, 3×3 stride-1 f32 convs)
  int64_t checkpoint_every = 0;    // steps; 0 = every epoch ("epoch")
  double grad_clip = 0.0;          // 0 = off
  int64_t early_stopping = 0;      // patience in epochs; 0 = off
  int64_t threads = 0;             // 0 = all cores
  int64_t log_every = 10;          // plain progress line every N steps when not on a terminal
  // Each rank's share of a batch is split into this many micro-batches whose gradients are
  // summed before one optimizer step (issue #20).
  int64_t accumulate_steps = 1;
  bool sync_bn = false;            // BN statistics over all ranks' micro-batches of a step
  // none | auto | list: stages recomputed in backward from their kept input (issue #21);
  // "list" names them in checkpoint_stages.
  std::string activation_checkpointing = "none";
  std::vector<std::string> checkpoint_stages;
  std::optional<double> memory_limit_gib;  // auto's budget for the planner's peak estimate
};

struct OptimizerRecipe {
  std::string name = "adam";
  double lr = 1e-4;
  double weight_decay = 0.0;
  double momentum = 0.9;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double layer_decay = 1.0;
  std::vector<std::string> freeze;
  std::map<std::string, double> stage_lr;  // per-stage lr multiplier on top of layer_decay
  bool decay_bn_and_bias = false;
};

struct ScheduleRecipe {
  std::string name = "constant";
  int64_t warmup_steps = 0;
  double min_lr = 0.0;     // cosine floor (absolute)
  double pct_start = 0.3;  // onecycle
};

struct LossRecipe {
  std::string name = "cross_entropy";  // cross_entropy | bce (multi-label)
  std::string class_weights = "none";  // none | auto (inverse class frequency) | list below
  std::vector<double> class_weight_values;
  double label_smoothing = 0.0;
};

struct ReportRecipe {
  bool images = true;  // false: no pixel data in the report (no gallery overlays are written)
};

// How `cxrtune eval` (and train's evaluation of data.test) scores the run's checkpoints.
struct EvalRecipe {
  std::vector<std::string> subgroups;  // keys of engine/subgroup_keys.h; checked when parsed
  int64_t subgroup_min_size = 30;      // smaller subgroups are listed as too small, not scored
};

struct Recipe {
  ModelRecipe model;
  DataRecipe data;
  TrainRecipe train;
  OptimizerRecipe optimizer;
  ScheduleRecipe schedule;
  LossRecipe loss;
  ReportRecipe report;
  EvalRecipe eval;
  std::vector<std::string> plugins;
};

}  // namespace cxr
