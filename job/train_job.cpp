#include "job/train_job.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "job/activation_checkpointing.h"
#include "job/checkpoint_model.h"
#include "job/data_parallel_ranks.h"
#include "job/every_rank.h"
#include "job/image_header_check.h"
#include "job/model_setup.h"
#include "job/run_directory.h"
#include "job/run_lock.h"
#include "job/run_writer.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/file_ops.h"
#include "engine/optimizer.h"
#include "engine/trainer.h"
#include "engine/weight_change.h"
#include "io/weights/apply.h"
#include "io/weights/checkpoint.h"
#include "io/weights/safetensors.h"
#include "io/weights/checkpoint_fields.h"
#include "plugins/mpi/world.h"
#include "predict/gallery.h"
#include "recipes/recipe_parser.h"
#include "reports/health.h"
#include "reports/run_reader.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string default_run_dir(const std::string& recipe_path) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + fs::path(recipe_path).stem().string() + "-" + stamp;
}

StateDict tensors_of(Backend& backend, const std::vector<std::pair<std::string, Tensor*>>& named) {
  StateDict d;
  for (const auto& [name, t] : named) {
    std::vector<float> v(static_cast<size_t>(t->numel()));
    backend.read_plain(*t, v.data());
    d.add(NamedTensor::from_f32(name, t->shape(), v.data()));
  }
  return d;
}

void load_tensors(Backend& backend, const StateDict& d, const std::vector<std::pair<std::string, Tensor*>>& named,
                  const std::string& what) {
  for (const auto& [name, t] : named) {
    const NamedTensor* n = d.find(name);
    if (!n || n->shape != t->shape()) throw UsageError(what + ": optimizer state " + name + " missing or of another shape");
    const auto v = n->to_f32();
    backend.write_plain(*t, v.data());
  }
}

// metrics.jsonl as of a checkpoint: records after its position are dropped (they are redone).
void truncate_metrics(const std::string& path, const TrainPosition& pos) {
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    const bool keep = j["kind"] == "step" ? j["step"].get<int64_t>() < pos.step : j["epoch"].get<int64_t>() < pos.epoch;
    if (keep) kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

// The position a checkpoint was saved at, every field typed (a damaged one: UsageError naming
// the file and the field).
TrainPosition position_of(const std::string& file, const std::map<std::string, std::string>& m, int64_t& optimizer_steps) {
  const CheckpointFields f(file, m);
  TrainPosition p;
  p.epoch = f.integer("epoch");
  p.batch = f.integer("batch");
  p.step = f.integer("step");
  p.best_auroc = f.real("best_auroc");
  p.epochs_without_improvement = f.integer("epochs_without_improvement");
  p.epoch_loss_sum = f.real("epoch_loss_sum");
  p.epoch_grad_sum = f.real_map("epoch_grad_sum");
  p.epoch_grad_last = f.real_map("epoch_grad_last");
  optimizer_steps = f.integer("optimizer_steps");
  return p;
}

TrainOutcome train_on(const TrainOptions& o, JobObserver& primary_observer, Communicator& world);

}  // namespace

TrainOutcome run_training(const TrainOptions& o, JobObserver& observer) {
  Communicator& world = world_communicator();
  TrainOutcome out;
  run_on_every_rank(world, [&] { out = train_on(o, observer, world); });
  return out;
}

namespace {

TrainOutcome train_on(const TrainOptions& o, JobObserver& primary_observer, Communicator& world) {
  const bool primary = world.rank() == 0;  // writes the run directory and talks to the user
  SilentObserver silent;
  JobObserver& observer = primary ? primary_observer : silent;
  // Read once, here: the checkpoint writer's fault points for the crash-consistency tests.
  FileOps file_ops(FaultPlan::parse(std::getenv("CXRTUNE_TEST_FAULT")));
  Recipe recipe;
  std::string run_dir = o.out_dir;
  const bool resuming = !o.resume_dir.empty();
  std::optional<RunLock> lock;
  bool resumed_in_place = false;
  if (!primary) {
    // Rank 0 reads the recipe (and the run directory on --resume); the others get its result.
    std::string yaml;
    broadcast_string(world, yaml, 0);
    recipe = parse_recipe_text(yaml, "rank 0's recipe");
  } else if (resuming) {
    const fs::path own = fs::path(o.resume_dir);
    if (!fs::exists(own / "recipe.yaml") || !fs::exists(own / "checkpoints" / "init.safetensors"))
      throw UsageError("--resume " + o.resume_dir + ": not a cxrtune run directory (no recipe.yaml and checkpoints/init.safetensors)");
    std::vector<std::string> notes;
    recipe = resumed_recipe(o.resume_dir, o.recipe_path, o.overrides, notes);
    for (const std::string& n : notes) observer.note("resume: " + n);
    if (!run_dir.empty() && fs::weakly_canonical(run_dir) != fs::weakly_canonical(o.resume_dir)) {
      fork_run_dir(o.resume_dir, run_dir);
      observer.note("resume: copied " + o.resume_dir + " to " + run_dir + ", continuing the copy");
      lock.emplace(run_dir);
    } else {
      run_dir = o.resume_dir;
      lock.emplace(run_dir);  // before anything in the directory is touched
      resumed_in_place = true;
    }
  } else {
    recipe = parse_recipe_file(o.recipe_path, o.overrides);
    if (run_dir.empty()) run_dir = default_run_dir(o.recipe_path);
    check_new_run_dir(run_dir, o.force);
  }
  if (primary && world.size() > 1) {
    std::string yaml = recipe_to_yaml(recipe);
    broadcast_string(world, yaml, 0);
  }
  if (!o.backend.empty()) recipe.train.backend = o.backend;
  const int64_t per_step = world.size() * recipe.train.accumulate_steps;  // micro-batches per step
  if (recipe.train.batch_size % per_step != 0)
    throw UsageError("train.batch_size: " + std::to_string(recipe.train.batch_size) + " is not divisible by " +
                     std::to_string(per_step) + " (" + std::to_string(world.size()) + " process" +
                     (world.size() == 1 ? "" : "es") + " x train.accumulate_steps " +
                     std::to_string(recipe.train.accumulate_steps) +
                     "): every micro-batch of a step must have the same size");
  if (recipe.data.val_split > 0 && recipe.data.val && fs::exists(*recipe.data.val))
    throw UsageError("data.val (" + *recipe.data.val + ") and data.val_split (" + std::to_string(recipe.data.val_split) +
                     ") both give a validation set: set data.val: null to split train, or data.val_split: 0");
  if (recipe.model.num_classes < 2 && recipe.loss.name == "cross_entropy")
    throw UsageError("model.num_classes: " + std::to_string(recipe.model.num_classes) +
                     " with loss cross_entropy: a softmax over one class has loss 0 and learns nothing; "
                     "give two classes (e.g. NORMAL and the finding) or use loss.name: bce");

  Recipe compute = recipe;  // what this process computes with; the run's recipe stays as given
  if (compute.train.threads == 0 && world.local_size() > 1)
    // "All cores" shared by the ranks of this node: each takes its part, not all of them.
    compute.train.threads = std::max<int64_t>(1, std::thread::hardware_concurrency() / world.local_size());
  // Several ranks on GPUs: each its node-local rank's, set before the backend's first CUDA call.
  const std::string gpu_note = pin_local_gpu(world, compute.train.backend);
  JobModel model = make_model(compute, o.plugins);
  Network& net = *model.network;
  Backend& backend = *model.backend;
  // SyncBatchNorm is built on the CPU backends; the GPU's BN would refuse at the first step.
  if (recipe.train.sync_bn && world.size() > 1 && backend.name() == "cudnn")
    throw UsageError("train.sync_bn: true is not supported by the GPU backend (cudnn) yet; use train.sync_bn: false "
                     "or train.backend: cpu");
  // The synced oneDNN BN reads f32 activations only (plugins/onednn/batchnorm_sync.h).
  if (recipe.train.sync_bn && world.size() > 1 && backend.compute_dtype() != DType::F32)
    throw UsageError("train.sync_bn: true needs train.precision f32 (got " + to_string(backend.compute_dtype()) +
                     "); use train.sync_bn: false or train.precision: f32");
  if (!gpu_note.empty()) observer.note(gpu_note);
  // The trainer's reductions: NCCL on the GPU where built (cuDNN, several ranks), else `world`.
  const std::unique_ptr<Communicator> gpu_comm = make_gpu_communicator(world, backend);
  Communicator& reduce_comm = gpu_comm ? *gpu_comm : world;
  JobData data = make_data(recipe, world.rank(), world.size());
  if (primary && recipe.data.on_bad_file == "fail")
    check_image_headers({{"train", &data.train->dataset()}, {"val", &data.val->dataset()}}, observer);
  const auto loss = make_loss(recipe, data.train->dataset());
  TrainStep step(net, *model.registry, *loss);
  const int64_t b = recipe.train.batch_size, s = recipe.data.image_size;
  const int64_t micro = b / per_step;  // what the network is prepared for

  const int64_t batches = data.train->batches_per_epoch();
  ScheduleConfig schedule;
  schedule.name = recipe.schedule.name;
  schedule.warmup_steps = recipe.schedule.warmup_steps;
  schedule.total_steps = recipe.train.max_steps ? std::min(*recipe.train.max_steps, recipe.train.epochs * batches)
                                                : recipe.train.epochs * batches;
  schedule.min_factor = recipe.schedule.min_lr / recipe.optimizer.lr;
  schedule.pct_start = recipe.schedule.pct_start;
  OptimizerConfig oc;
  const OptimizerRecipe& orc = recipe.optimizer;
  oc.name = orc.name, oc.lr = orc.lr, oc.weight_decay = orc.weight_decay, oc.momentum = orc.momentum;
  oc.nesterov = orc.nesterov, oc.beta1 = orc.beta1, oc.beta2 = orc.beta2, oc.eps = orc.eps;
  oc.layer_decay = orc.layer_decay, oc.freeze = orc.freeze, oc.stage_scale = orc.stage_lr;
  oc.decay_bn_and_bias = orc.decay_bn_and_bias;
  // The optimizer marks frozen stages; the network is planned after, so it computes no gradient
  // a frozen stage would not use.
  Optimizer optimizer(oc, schedule, net.parameters(), backend, net.graph().stages);
  const bool multi_label = data.train->dataset().multi_label;
  const Shape targets = multi_label ? Shape{micro, recipe.model.num_classes} : Shape{micro};
  apply_activation_checkpointing(recipe.train, net, {micro, recipe.model.in_channels, s, s}, observer);
  step.prepare({micro, recipe.model.in_channels, s, s}, targets, true);

  const std::string ckpt_dir = (fs::path(run_dir) / "checkpoints").string();
  const std::string init_path = ckpt_dir + "/init.safetensors";
  if (!primary) {
    initialise_weights(model, recipe);  // replaced by rank 0's weights when training starts
  } else if (!resuming) {
    initialise_weights(model, recipe);
    observer.note("weights: " + model.weights_note);
    // Everything that can be checked has been: only now does the run directory appear.
    fs::create_directories(run_dir);
    lock.emplace(run_dir);
    check_new_run_dir(run_dir, o.force);  // again, locked: another start may have won the race
    clear_run_dir(run_dir);
    fs::create_directories(ckpt_dir);
    write_file_atomic((fs::path(run_dir) / "recipe.yaml").string(), recipe_to_yaml(recipe));
    write_safetensors(init_path, network_state_dict(net));  // W_init, for weight_change.json
  } else {
    write_file_atomic((fs::path(run_dir) / "recipe.yaml").string(), recipe_to_yaml(recipe));
  }
  std::optional<CheckpointStore> store;
  if (primary) store.emplace(ckpt_dir, file_ops);
  TrainPosition start;
  std::optional<Checkpoint> resumed;
  if (primary && resuming) {
    store->remove_debris();
    std::vector<std::string> notes;
    resumed = store->load_for_resume(recipe.model.arch, notes);
    for (const std::string& n : notes) observer.note("resume: " + n);
  }
  if (primary && resuming && !resumed) {
    // Nothing complete to continue from: the run's own initial weights are its step 0.
    apply_state_dict(net, read_safetensors(init_path), {false, init_path});
    truncate_metrics((fs::path(run_dir) / "metrics.jsonl").string(), start);
  } else if (resumed) {
    const Checkpoint& c = *resumed;
    apply_state_dict(net, c.model, {false, ckpt_dir + "/last.safetensors"});
    load_tensors(backend, c.optimizer, optimizer.state(), ckpt_dir + "/last.safetensors (optimizer state)");
    int64_t optimizer_steps = 0;
    start = position_of(ckpt_dir + "/last.safetensors", c.metadata, optimizer_steps);
    optimizer.set_steps_done(optimizer_steps);
    truncate_metrics((fs::path(run_dir) / "metrics.jsonl").string(), start);
    observer.note("resuming " + run_dir + " at epoch " + std::to_string(start.epoch) + ", step " +
                  std::to_string(start.step));
  }
  share_resume_state(world, start, optimizer, backend);  // the weights follow in Trainer::run
  if (primary) {
    // The environment for the report: versions, backend, threads, data counts (no file names).
    json info = {{"cxrtune_version", CXRTUNE_VERSION}, {"backend", backend.describe()}, {"precision", to_string(backend.compute_dtype())}, {"threads", backend.threads()},
                 {"arch", recipe.model.arch}, {"weights", model.weights_note}, {"classes", data.train->dataset().classes},
                 {"train_counts", data.train->dataset().class_counts()}, {"val_counts", data.val->dataset().class_counts()},
                 {"processes", world.size()}, {"accumulate_steps", recipe.train.accumulate_steps}, {"communicator", reduce_comm.describe()}};
    write_file_atomic((fs::path(run_dir) / "run_info.json").string(), info.dump(2));
  }
  WeightChange change(net);
  if (primary) {
    std::map<std::string, std::vector<float>> init;
    for (const NamedTensor& t : read_safetensors(init_path).tensors) init[t.name] = t.to_f32();
    change.set_initial(std::move(init));
  }

  auto save = [&](const std::string& name, const TrainPosition& pos, const std::map<std::string, std::string>& extra) {
    Checkpoint c;
    c.model = network_state_dict(net);
    c.optimizer = tensors_of(backend, optimizer.state());
    c.metadata = {{"arch", recipe.model.arch},
                  {"cxrtune_version", CXRTUNE_VERSION},
                  {"recipe", recipe_to_yaml(recipe)},
                  {"classes", json(data.train->dataset().classes).dump()},
                  {"epoch", std::to_string(pos.epoch)},
                  {"batch", std::to_string(pos.batch)},
                  {"step", std::to_string(pos.step)},
                  {"optimizer_steps", std::to_string(optimizer.steps_done())},
                  {"best_auroc", exact(pos.best_auroc)},
                  {"epochs_without_improvement", std::to_string(pos.epochs_without_improvement)},
                  {"epoch_loss_sum", exact(pos.epoch_loss_sum)},
                  {"epoch_grad_sum", json(pos.epoch_grad_sum).dump(-1, ' ', false)},
                  {"epoch_grad_last", json(pos.epoch_grad_last).dump(-1, ' ', false)},
                  {"seed", std::to_string(recipe.train.seed)}};
    for (const auto& [k, v] : extra) c.metadata[k] = v;
    store->save(name, std::move(c));
  };
  std::optional<RunWriter> writer;
  SilentSink silent_sink;
  if (primary) writer.emplace(run_dir, net.graph().stages, b, save, [&store] { return store->describe_last(); }, observer);
  RunSink& sink = primary ? static_cast<RunSink&>(*writer) : silent_sink;
  TrainConfig tc;
  tc.epochs = recipe.train.epochs;
  tc.max_steps = recipe.train.max_steps.value_or(-1);
  tc.checkpoint_every = recipe.train.checkpoint_every;
  tc.grad_clip = recipe.train.grad_clip;
  tc.early_stopping = recipe.train.early_stopping;
  tc.class_names = data.train->dataset().classes;
  tc.multi_label = multi_label;
  tc.accumulate_steps = recipe.train.accumulate_steps;
  tc.comm = &reduce_comm;
  tc.sync_batch_norm = recipe.train.sync_bn;
  Trainer trainer(net, step, optimizer, tc);

  if (resumed_in_place) {
    // RUN/eval/ and the report describe the weights before this resume: never show them as this
    // run's (train evaluates data.test again at the end). Removed only now, when the resume has
    // passed every check.
    std::error_code ec;
    const fs::path eval = fs::path(run_dir) / "eval";
    if (fs::exists(eval, ec)) {
      fs::remove_all(eval, ec);
      observer.note("resume: removed " + eval.string() + " (it evaluated the weights before this resume)");
    }
    fs::remove(fs::path(run_dir) / "report.html", ec);
  }
  observer.on_train_start(b, recipe.train.log_every);
  g_stop = false;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // mpirun forwards SIGUSR1 to every rank, while on SIGINT/SIGTERM it kills them one second
  // after a SIGTERM (Open MPI 4.1, odls_base_sigkill_timeout): USR1 is how a data-parallel run
  // is stopped with a checkpoint (docs/distributed.md).
  std::signal(SIGUSR1, on_signal);
  observer.note("training " + recipe.model.arch + " on " + backend.describe() + ": " + std::to_string(batches) +
                " steps per epoch, run directory " + run_dir +
                (world.size() > 1 ? "; " + world.describe() + ", " + std::to_string(b / world.size()) + " samples per rank"
                                  : std::string()) +
                (recipe.train.accumulate_steps > 1 ? "; " + std::to_string(recipe.train.accumulate_steps) +
                                                         " micro-batches of " + std::to_string(micro) + " per step"
                                                   : std::string()));
  trainer.run(*data.train, data.val.get(), sink, start, g_stop);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGUSR1, SIG_DFL);
  TrainOutcome outcome;
  outcome.run_dir = run_dir;
  outcome.recipe = recipe;
  outcome.primary = primary;
  if (!primary) return outcome;
  writer->write_weight_change(change.relative_change(net));
  // The report's own rules (reports/health.h: a diverging or non-finite validation loss, accuracy
  // back at chance), read from what was just written: the summary and the page say the same.
  for (const report::Finding& f : report::validation_health(report::read_run(run_dir))) outcome.findings.push_back(f.message);
  if (fs::exists(fs::path(ckpt_dir) / "best.safetensors")) outcome.best = (fs::path(ckpt_dir) / "best.safetensors").string();
  if (outcome.best) {  // the report's gallery: Grad-CAM of the best checkpoint's most confident validation calls
    CheckpointModel best = load_checkpoint_model({*outcome.best, recipe.train.backend, recipe.train.precision, o.plugins});
    write_gallery(best, data.val->dataset(), run_dir, {8, 256, recipe.report.images});
  }
  return outcome;
}

}  // namespace
}  // namespace cxr
