// `cxrtune predict --checkpoint RUN_DIR|CKPT INPUT... [--out predictions.csv] [--cam DIR]
// [--cam-class NAME] [--threshold X] [--batch N] [--backend ...] [--precision ...]
// [--on-bad-file skip|fail]`: flags only. The checkpoint's model (job/checkpoint_model.h) scores
// files, folders or CSV manifests (predict/predict_job.h) with a progress bar on stderr; the
// CSV path and a one-line summary go to stdout.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "job/checkpoint_model.h"
#include "predict/predict_job.h"

namespace cxr::cli {

void add_predict_command(CLI::App& app) {
  auto model = std::make_shared<CheckpointModelOptions>();
  auto o = std::make_shared<PredictOptions>();
  auto threshold = std::make_shared<double>(-1);
  auto* cmd = app.add_subcommand("predict", "score new images with a checkpoint; Grad-CAM heatmaps with --cam");
  cmd->add_option("--checkpoint", model->checkpoint, "a run directory (its best checkpoint) or a .safetensors checkpoint")
      ->required();
  cmd->add_option("INPUT", o->inputs, "image files, folders (read by content) or CSV manifests (a path column)")->required();
  cmd->add_option("--out", o->out, "the CSV: path, one probability per class, predicted")->capture_default_str();
  cmd->add_option("--cam", o->cam_dir, "write <name>.cam.npy and <name>.cam.png per input into this folder");
  cmd->add_option("--cam-class", o->cam_class, "explain this class (default: each image's most probable one)");
  auto* t = cmd->add_option("--threshold", *threshold, "multi-label: one threshold for every label (default: the checkpoint's)");
  cmd->add_option("--batch", o->batch, "images per batch (default: the recipe's train.batch_size)");
  cmd->add_option("--backend", model->backend, "cpu | cuda | auto (default: the recipe's)");
  cmd->add_option("--precision", model->precision, "f32 | bf16 | f16 (default: the recipe's)");
  cmd->add_option("--on-bad-file", o->on_bad_file, "skip | fail (default: the recipe's data.on_bad_file)")
      ->check(CLI::IsMember({"skip", "fail"}));
  cmd->add_option("--plugin", model->plugins, "load layer plugins from this shared library")->take_all();
  cmd->callback([model, o, threshold, t] {
    if (t->count()) o->threshold = *threshold;
    CheckpointModel m = load_checkpoint_model(*model);
    std::optional<ProgressBar> bar;
    const int64_t batch = o->batch > 0 ? o->batch : m.recipe.train.batch_size;
    o->on_progress = [&bar, batch](int64_t done, int64_t total) {
      // Off a terminal, about ten plain lines: `done` moves in whole batches until the last one.
      if (!bar) bar.emplace("predict", static_cast<int>(total), 1.0, static_cast<int>(batch * std::max<int64_t>(1, total / batch / 10)));
      bar->update(static_cast<int>(done));
    };
    const PredictSummary s = run_predict(m, *o);
    if (bar) bar->finish();
    std::printf("predictions: %s (%lld images, %.1f img/s%s)\n", o->out.c_str(), static_cast<long long>(s.scored),
                s.seconds > 0 ? static_cast<double>(s.scored) / s.seconds : 0.0,
                s.skipped ? (", " + std::to_string(s.skipped) + " unreadable files skipped").c_str() : "");
    if (!o->cam_dir.empty())
      std::printf("grad-cam: %s (%.2f s of the run: %.2f s backward to layer4 and maps, %.2f s files)\n",
                  o->cam_dir.c_str(), s.cam_seconds, s.cam_compute_seconds, s.cam_seconds - s.cam_compute_seconds);
    // Where the time went: a run far below `cxrtune bench`'s inference figure says why here.
    const double steady = s.network_seconds - s.first_batch_network_seconds;
    const int64_t later = s.scored - std::min<int64_t>(s.scored, batch);
    std::printf("time: %.2f s setup (loader, primitives), %.2f s waiting for decoded images, %.2f s network "
                "(first batch %.2f s; later batches %.1f img/s; median batch %.1f img/s)\n",
                s.setup_seconds, s.wait_seconds, s.network_seconds, s.first_batch_network_seconds,
                steady > 0 ? static_cast<double>(later) / steady : 0.0,
                s.median_batch_network_seconds > 0 ? static_cast<double>(batch) / s.median_batch_network_seconds : 0.0);
  });
}

}  // namespace cxr::cli
