#include "recipes/recipe_parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/did_you_mean.h"
#include "core/errors.h"
#include "engine/subgroup_keys.h"
#include "recipes/recipe_keys.h"

namespace cxr {
namespace {

struct Source {
  std::string file;
  std::map<std::string, std::string> overrides;  // key path -> the --set text that set it
  std::set<std::string>* read = nullptr;         // when set: every key path the parser reads
};

// A key path of recipe_keys(), or a section holding some.
bool known_key(const std::string& path) {
  for (const std::string& k : recipe_keys())
    if (k == path || k.rfind(path + ".", 0) == 0) return true;
  return false;
}

// One mapping of the recipe; getters consume keys, finish() reports the ones nobody asked for.
class Section {
 public:
  // `free_form`: a mapping whose keys are the user's (optimizer.stage_lr's stage names).
  Section(YAML::Node node, std::string path, const Source& src, bool free_form = false)
      : node_(std::move(node)), path_(std::move(path)), src_(src), free_form_(free_form) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) fail(node_, path_, "expected a mapping of keys");
  }

  std::string str(const std::string& key, const std::string& def, const std::vector<std::string>& allowed = {}) {
    const YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    const std::string v = scalar(n, key, "a string");
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(n, full(key), "'" + v + "' is not one of " + list);
    }
    return v;
  }
  std::optional<std::string> opt_str(const std::string& key, std::optional<std::string> def) {
    const YAML::Node n = take(key);
    if (!n) return def;
    if (n.IsNull()) return std::nullopt;
    return scalar(n, key, "a string or null");
  }
  int64_t integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
    const YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    int64_t v;
    try {
      v = n.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(n, full(key), "expected an integer, got '" + text(n) + "'");
    }
    if (v < lo || v > hi) fail(n, full(key), "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(v));
    return v;
  }
  std::optional<int64_t> opt_integer(const std::string& key, int64_t lo, int64_t hi) {
    const YAML::Node n = node_ ? node_[key] : YAML::Node();
    if (!n || n.IsNull()) {
      take(key);
      return std::nullopt;
    }
    return integer(key, 0, lo, hi);
  }
  double number(const std::string& key, double def, double lo, double hi, bool lo_open = false) {
    const YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    double v;
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(n, full(key), "expected a number, got '" + text(n) + "'");
    }
    if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) {
      std::ostringstream range;
      range << (lo_open ? "(" : "[") << lo << ", " << hi << "]";
      fail(n, full(key), "must be in " + range.str() + ", got " + text(n));
    }
    return v;
  }
  std::optional<double> opt_number(const std::string& key, double lo, double hi) {
    const YAML::Node n = node_ ? node_[key] : YAML::Node();
    if (!n || n.IsNull()) {
      take(key);
      return std::nullopt;
    }
    return number(key, 0, lo, hi);
  }
  bool boolean(const std::string& key, bool def) {
    const YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(n, full(key), "expected true or false, got '" + text(n) + "'");
    }
  }
  std::vector<std::string> str_list(const std::string& key) {
    const YAML::Node n = take(key);
    std::vector<std::string> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) fail(n, full(key), "expected a list");
    for (const YAML::Node& e : n) out.push_back(scalar(e, key, "a string"));
    return out;
  }
  // A list of strings, or one of `words`, into (word, strings); the word is "list" for a list.
  std::pair<std::string, std::vector<std::string>> word_or_strings(const std::string& key, const std::string& def,
                                                                   const std::vector<std::string>& words) {
    const YAML::Node n = node_ ? node_[key] : YAML::Node();
    if (n && n.IsSequence()) return {"list", str_list(key)};
    return {str(key, def, words), {}};
  }
  // A list of numbers, or one of `words`, into (word, values).
  std::pair<std::string, std::vector<double>> word_or_numbers(const std::string& key, const std::string& def,
                                                              const std::vector<std::string>& words) {
    const YAML::Node n = node_ ? node_[key] : YAML::Node();
    if (n && n.IsSequence()) {
      take(key);
      std::vector<double> v;
      for (const YAML::Node& e : n) {
        try {
          v.push_back(e.as<double>());
        } catch (const YAML::Exception&) {
          fail(e, full(key), "expected a number, got '" + text(e) + "'");
        }
        if (!(v.back() > 0)) fail(e, full(key), "weights must be > 0");
      }
      return {"list", v};
    }
    return {str(key, def, words), {}};
  }
  std::map<std::string, double> number_map(const std::string& key) {
    const YAML::Node n = take(key);
    std::map<std::string, double> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsMap()) fail(n, full(key), "expected a mapping of stage: multiplier");
    Section s(n, full(key), src_, true);
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      out[k] = s.number(k, 1.0, 0.0, 1e6);
    }
    return out;
  }
  Section sub(const std::string& key) { return Section(take(key), full(key), src_); }

  // Every key present that the parser did not read is an error, with the nearest known key.
  void finish() {
    if (!node_ || node_.IsNull()) return;
    std::vector<std::string> candidates = recipe_keys_in(path_);
    if (path_.empty())
      for (const std::string& k : recipe_keys())
        if (const size_t dot = k.find('.'); dot != std::string::npos) candidates.push_back(k.substr(0, dot));
    for (const auto& kv : node_) {
      const std::string k = kv.first.as<std::string>();
      if (taken_.count(k)) continue;
      const std::string hint = closest_name(k, candidates);
      fail(kv.first, full(k), "unknown key" + (hint.empty() ? "" : " (did you mean '" + full(hint) + "'?)"));
    }
  }

  // Where `key`'s value (or its `index`-th list element) is: "FILE:LINE:COL", or the --set that
  // set it; "" when absent.
  std::string where(const std::string& key, size_t index) const {
    const YAML::Node n = node_ && node_.IsMap() ? node_[key] : YAML::Node();
    if (!n) return "";
    if (const auto it = src_.overrides.find(full(key)); it != src_.overrides.end()) return "--set " + it->second;
    const YAML::Mark m = (n.IsSequence() && index < n.size() ? n[index] : n).Mark();
    return m.is_null() ? src_.file : src_.file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }

 private:
  YAML::Node take(const std::string& key) {
    // A key read here but missing from recipe_keys() would be accepted yet undocumented.
    if (!free_form_ && !known_key(full(key)))
      throw std::logic_error("recipe key " + full(key) + " is parsed but not listed in recipes/recipe_keys.cpp");
    if (!free_form_ && src_.read) src_.read->insert(full(key));
    taken_.insert(key);
    if (!node_ || node_.IsNull()) return YAML::Node();
    return node_[key];
  }
  std::string full(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string scalar(const YAML::Node& n, const std::string& key, const char* what) {
    if (!n.IsScalar()) fail(n, full(key), std::string("expected ") + what);
    return n.Scalar();
  }
  static std::string text(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    YAML::Emitter e;
    e << YAML::Flow << n;
    return e.c_str();
  }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& key_path, const std::string& msg) const {
    auto it = src_.overrides.find(key_path);
    if (it == src_.overrides.end())
      for (const auto& [p, text] : src_.overrides)
        if (key_path.rfind(p + ".", 0) == 0) it = src_.overrides.find(p);
    if (it != src_.overrides.end()) throw UsageError("--set " + it->second + ": " + key_path + ": " + msg);
    const YAML::Mark m = n.Mark();
    const std::string where = m.is_null() ? src_.file : src_.file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    throw UsageError(where + ": " + key_path + ": " + msg);
  }

  YAML::Node node_;
  std::string path_;
  const Source& src_;
  bool free_form_ = false;
  std::set<std::string> taken_;
};

void apply_override(YAML::Node& root, const std::string& spec, Source& src) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError("--set " + spec + ": expected key.path=value");
  const std::string path = spec.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(spec.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw UsageError("--set " + spec + ": value is not valid YAML: " + e.msg);
  }
  std::vector<std::string> keys;
  std::stringstream ss(path);
  for (std::string k; std::getline(ss, k, '.');) keys.push_back(k);
  // Walk with fresh handles: assigning to a yaml-cpp Node handle rebinds it, so re-index each level.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = chain.back()[keys[i]];
    if (!next || next.IsNull()) {
      chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[keys[i]];
    }
    if (!next.IsMap()) throw UsageError("--set " + spec + ": " + keys[i] + " is not a mapping");
    chain.push_back(next);
  }
  chain.back()[keys.back()] = value;
  src.overrides[path] = spec;
}

Recipe parse(YAML::Node root, Source& src) {
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  Section top(root, "", src);
  Recipe r;
  {
    Section s = top.sub("model");
    r.model.arch = s.str("arch", r.model.arch, {"resnet18", "resnet34", "resnet50", "resnet101"});
    r.model.weights = s.opt_str("weights", r.model.weights);
    r.model.num_classes = s.integer("num_classes", r.model.num_classes, 1, 100000);
    r.model.in_channels = s.integer("in_channels", r.model.in_channels, 1, 3);
    if (r.model.in_channels == 2) throw UsageError(src.file + ": model.in_channels: must be 1 or 3");
    r.model.max_tensor_mib = s.integer("max_tensor_mib", r.model.max_tensor_mib, 1, int64_t{1} << 20);
    s.finish();
  }
  {
    Section s = top.sub("data");
    DataRecipe& d = r.data;
    d.format = s.str("format", d.format, {"folder", "manifest", "nih", "chexpert", "mimic-cxr-jpg", "rsna-pneumonia"});
    d.images = s.opt_str("images", d.images);
    d.labels = s.str_list("labels");
    for (size_t i = 0; i < d.labels.size(); ++i) d.labels_where.push_back(s.where("labels", i));
    d.uncertain = s.str("uncertain", d.uncertain, {"ignore", "ones", "zeros"});
    d.views = s.str_list("views");
    d.train = s.str("train", d.train);
    d.val = s.opt_str("val", d.val);
    d.test = s.opt_str("test", d.test);
    d.image_size = s.integer("image_size", d.image_size, 32, 4096);
    d.augment = s.str("augment", d.augment, {"none", "standard"});
    d.hflip = s.boolean("hflip", d.hflip);
    d.shuffle = s.boolean("shuffle", d.shuffle);
    d.workers = s.integer("workers", d.workers, 0, 64);
    d.cache = s.str("cache", d.cache, {"none", "memory", "disk"});
    d.cache_dir = s.opt_str("cache_dir", d.cache_dir);
    d.on_bad_file = s.str("on_bad_file", d.on_bad_file, {"fail", "skip"});
    d.val_split = s.number("val_split", d.val_split, 0.0, 0.9);
    d.max_image_pixels = s.integer("max_image_pixels", d.max_image_pixels, 1, int64_t{1} << 34);
    s.finish();
  }
  {
    Section s = top.sub("train");
    TrainRecipe& t = r.train;
    t.epochs = s.integer("epochs", t.epochs, 1, 100000);
    t.max_steps = s.opt_integer("max_steps", 1, int64_t{1} << 40);
    t.batch_size = s.integer("batch_size", t.batch_size, 1, 65536);
    t.seed = s.integer("seed", t.seed, 0, int64_t{1} << 62);
    t.backend = s.str("backend", t.backend, {"cpu", "cuda", "auto", "reference"});
    t.precision = s.str("precision", t.precision, {"f32", "bf16", "f16"});
    t.conv_algorithm = s.str("conv_algorithm", t.conv_algorithm, {"direct", "winograd"});
    const std::string every = s.str("checkpoint_every", "epoch");
    if (every != "epoch") {
      try {
        size_t used = 0;
        t.checkpoint_every = std::stoll(every, &used);
        if (used != every.size() || t.checkpoint_every < 1) throw std::invalid_argument(every);
      } catch (const std::exception&) {
        throw UsageError(src.file + ": train.checkpoint_every: expected 'epoch' or a number of steps >= 1, got '" + every + "'");
      }
    }
    t.grad_clip = s.number("grad_clip", t.grad_clip, 0.0, 1e9);
    t.early_stopping = s.integer("early_stopping", t.early_stopping, 0, 100000);
    t.threads = s.integer("threads", t.threads, 0, 1024);
    t.log_every = s.integer("log_every", t.log_every, 1, 1000000);
    t.accumulate_steps = s.integer("accumulate_steps", t.accumulate_steps, 1, 4096);
    t.sync_bn = s.boolean("sync_bn", t.sync_bn);
    std::tie(t.activation_checkpointing, t.checkpoint_stages) =
        s.word_or_strings("activation_checkpointing", t.activation_checkpointing, {"none", "auto"});
    t.memory_limit_gib = s.opt_number("memory_limit_gib", 0.01, 1e6);
    s.finish();
  }
  {
    Section s = top.sub("optimizer");
    OptimizerRecipe& o = r.optimizer;
    o.name = s.str("name", o.name, {"sgd", "adam", "adamw"});
    o.lr = s.number("lr", o.lr, 0.0, 10.0, true);
    o.weight_decay = s.number("weight_decay", o.weight_decay, 0.0, 10.0);
    o.momentum = s.number("momentum", o.momentum, 0.0, 1.0);
    o.nesterov = s.boolean("nesterov", o.nesterov);
    o.beta1 = s.number("beta1", o.beta1, 0.0, 1.0);
    o.beta2 = s.number("beta2", o.beta2, 0.0, 1.0);
    o.eps = s.number("eps", o.eps, 0.0, 1.0, true);
    o.layer_decay = s.number("layer_decay", o.layer_decay, 0.0, 1.0, true);
    o.freeze = s.str_list("freeze");
    o.stage_lr = s.number_map("stage_lr");
    o.decay_bn_and_bias = s.boolean("decay_bn_and_bias", o.decay_bn_and_bias);
    s.finish();
  }
  {
    Section s = top.sub("schedule");
    ScheduleRecipe& c = r.schedule;
    c.name = s.str("name", c.name, {"constant", "cosine", "onecycle"});
    c.warmup_steps = s.integer("warmup_steps", c.warmup_steps, 0, int64_t{1} << 40);
    c.min_lr = s.number("min_lr", c.min_lr, 0.0, 10.0);
    c.pct_start = s.number("pct_start", c.pct_start, 0.0, 1.0, true);
    s.finish();
  }
  {
    Section s = top.sub("loss");
    LossRecipe& l = r.loss;
    l.name = s.str("name", l.name, {"cross_entropy", "bce"});
    auto [word, values] = s.word_or_numbers("class_weights", l.class_weights, {"none", "auto"});
    l.class_weights = word;
    l.class_weight_values = values;
    l.label_smoothing = s.number("label_smoothing", l.label_smoothing, 0.0, 1.0);
    s.finish();
  }
  {
    Section s = top.sub("report");
    r.report.images = s.boolean("images", r.report.images);
    s.finish();
  }
  {
    Section s = top.sub("eval");
    r.eval.subgroups = s.str_list("subgroups");
    // Refused (identifying) keys fail here, when the recipe is read, not after training.
    parse_subgroup_keys(r.eval.subgroups, src.file + ": eval.subgroups");
    r.eval.subgroup_min_size = s.integer("subgroup_min_size", r.eval.subgroup_min_size, 1, int64_t{1} << 40);
    s.finish();
  }
  r.plugins = top.str_list("plugins");
  top.finish();
  return r;
}

}  // namespace

Recipe parse_recipe_text(const std::string& yaml, const std::string& source, const std::vector<std::string>& overrides) {
  Source src{source, {}};
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw UsageError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                     ": not valid YAML: " + e.msg);
  }
  if (root && !root.IsNull() && !root.IsMap()) throw UsageError(source + ": a recipe is a mapping of sections");
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (const std::string& o : overrides) apply_override(root, o, src);
  return parse(root, src);
}

std::vector<std::string> recipe_keys_read() {
  std::set<std::string> read;
  Source src{"(empty recipe)", {}, &read};
  parse(YAML::Node(YAML::NodeType::Map), src);
  // Sections are read as keys too; only the leaves are recipe keys.
  std::vector<std::string> leaves;
  for (const std::string& k : read)
    if (std::none_of(read.begin(), read.end(), [&](const std::string& o) { return o.rfind(k + ".", 0) == 0; }))
      leaves.push_back(k);
  return leaves;
}

Recipe parse_recipe_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot open recipe " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_recipe_text(ss.str(), path, overrides);
}

}  // namespace cxr
