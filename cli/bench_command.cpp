// `cxrtune bench`: times a ResNet training step and an inference forward (docs/cli.md "bench").
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "bench/train_bench.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"

namespace cxr::cli {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
}  // namespace

void add_bench_command(CLI::App& app) {
  auto config = std::make_shared<BenchConfig>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("bench", "time a ResNet training step and inference");
  cmd->add_option("--arch", config->arch, "resnet18 | resnet34 | resnet50 | resnet101")
      ->capture_default_str();
  cmd->add_option("--batch", config->batch, "images per step")->capture_default_str();
  cmd->add_option("--size", config->size, "image side in pixels")->capture_default_str();
  cmd->add_option("--backend", config->backend, "cpu | cuda | auto | reference")
      ->capture_default_str();
  cmd->add_option("--steps", config->steps, "measured steps")->capture_default_str();
  cmd->add_option("--warmup", config->warmup, "untimed steps first")->capture_default_str();
  cmd->add_option("--threads", config->threads, "CPU threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--dtype", config->dtype, "f32 | bf16 | f16")->capture_default_str();
  cmd->add_flag("--json", *json, "print one JSON object (the printed figures, by name)");
  cmd->add_option("--conv-algorithm", config->conv_algorithm, "direct | winograd (train.conv_algorithm)")
      ->check(CLI::IsMember({"direct", "winograd"}))
      ->capture_default_str();
  cmd->add_flag("!--no-training-fusions", config->training_fusions,
                "train without the BN+add kernel and the fused gradient sums (to measure what they buy)");
  cmd->add_option("--activation-checkpointing", config->checkpointing,
                  "none | all | auto | stages, comma-separated: recompute them in backward (train.activation_checkpointing)")
      ->capture_default_str();
  cmd->add_option("--memory-limit-gib", config->memory_limit_gib,
                  "auto's budget for the planner's peak-memory estimate (train.memory_limit_gib)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("!--no-inference", config->inference, "time the training step only");
  cmd->add_flag("--profile", config->profile, "time every layer: a table of ms, GFLOP/s and share of the step");
  cmd->callback([config, json] {
    std::unique_ptr<ProgressBar> bar;
    std::string phase;
    const BenchResult r = run_bench(*config, [&](const std::string& p, int done, int total) {
      if (p != phase) {
        if (bar) bar->finish();
        bar = std::make_unique<ProgressBar>(p, total, static_cast<double>(config->batch), 1);
        phase = p;
      }
      bar->update(done);
    });
    if (bar) bar->finish();
    if (*json) {
      nlohmann::json j{{"arch", r.arch},
                       {"backend", r.backend},
                       {"dtype", r.dtype},
                       {"conv_algorithm", config->conv_algorithm},
                       {"batch", r.batch},
                       {"size", r.size},
                       {"train_images_per_s", r.train_images_per_s},
                       {"infer_images_per_s", r.infer_images_per_s},
                       {"train_step_s", r.train_step_s},
                       {"infer_step_s", r.infer_step_s},
                       {"peak_rss_mib", r.peak_rss_mib},
                       {"forward_gflop_per_image", r.forward_gflop_per_image},
                       {"threads", config->threads},
                       {"memory_mib",
                        {{"parameters", r.memory.parameters},
                         {"optimizer", r.memory.optimizer},
                         {"input", r.memory.input},
                         {"kept_activations", r.memory.kept_activations},
                         {"arena", r.memory.arena},
                         {"shared_scratch", r.memory.shared_scratch},
                         {"layer_buffers", r.memory.layer_buffers},
                         {"host_tensors", r.memory.host_tensors}}},
                       {"activation_checkpointing", r.checkpointed},
                       {"estimate_mib",
                        {{"total", static_cast<double>(r.estimate.total()) / kMiB},
                         {"input", static_cast<double>(r.estimate.input) / kMiB},
                         {"kept", static_cast<double>(r.estimate.kept) / kMiB},
                         {"arena", static_cast<double>(r.estimate.arena) / kMiB},
                         {"tensors", static_cast<double>(r.estimate.tensors) / kMiB},
                         {"process", static_cast<double>(r.estimate.baseline) / kMiB}}},
                       {"first_loss", r.first_loss},
                       {"last_loss", r.last_loss},
                       {"isa", r.isa}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s %s %s %s batch %lld size %lld (%s)\n", r.arch.c_str(), r.backend.c_str(),
                  r.dtype.c_str(), config->conv_algorithm.c_str(), static_cast<long long>(r.batch),
                  static_cast<long long>(r.size), r.isa.c_str());
      std::printf("  train  %.2f img/s  (%.3f s/step, median)\n", r.train_images_per_s,
                  r.train_step_s);
      std::printf("  infer  %.2f img/s  (%.3f s/step, median)\n", r.infer_images_per_s,
                  r.infer_step_s);
      std::printf("  peak RSS %.0f MiB   loss %.4f -> %.4f\n", r.peak_rss_mib, r.first_loss,
                  r.last_loss);
      std::string stages;
      for (const std::string& st : r.checkpointed) stages += (stages.empty() ? "" : ",") + st;
      const PeakEstimate& e = r.estimate;
      std::printf("  activation checkpointing %s: estimated peak %.0f MiB (%+.1f %% of the RSS): input %.0f, kept "
                  "%.0f, arena %.0f, other tensors %.0f, process %.0f\n",
                  stages.empty() ? "none" : stages.c_str(), static_cast<double>(e.total()) / kMiB,
                  100.0 * (static_cast<double>(e.total()) / kMiB / r.peak_rss_mib - 1.0),
                  static_cast<double>(e.input) / kMiB, static_cast<double>(e.kept) / kMiB,
                  static_cast<double>(e.arena) / kMiB, static_cast<double>(e.tensors) / kMiB,
                  static_cast<double>(e.baseline) / kMiB);
      const MemoryBreakdown& m = r.memory;
      if (m.host_tensors > 0)
        std::printf("  memory MiB: parameters+grads %.0f, optimizer %.0f, input %.0f, kept activations %.0f, "
                    "arena %.0f, shared scratch %.0f, layer buffers %.0f (tensors %.0f of the RSS)\n",
                    m.parameters, m.optimizer, m.input, m.kept_activations, m.arena, m.shared_scratch,
                    m.layer_buffers, m.host_tensors);
    }
    if (config->profile) {
      // With --json the tables go to stderr so stdout stays one JSON object.
      FILE* out = *json ? stderr : stdout;
      std::fprintf(out, "\n%s\n", format_layer_profile(r.train_profile, "training step").c_str());
      if (config->inference) std::fprintf(out, "%s\n", format_layer_profile(r.infer_profile, "inference").c_str());
    }
  });
}

}  // namespace cxr::cli
