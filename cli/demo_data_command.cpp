// `cxrtune demo-data OUT_DIR [--count N] [--size S] [--seed K] [--task pneumonia|findings] [--force]`: a synthetic chest
// X-ray set (io/demo_data.h). Prints the number of files actually written.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "io/demo_data.h"

namespace cxr::cli {

void add_demo_data_command(CLI::App& app) {
  auto spec = std::make_shared<DemoDataSpec>();
  auto* cmd = app.add_subcommand("demo-data", "write a synthetic chest X-ray set (DICOM and PNG)");
  cmd->add_option("OUT_DIR", spec->out_dir, "output folder (missing or empty, unless --force)")->required();
  cmd->add_option("--count", spec->count, "images in all splits (at least 12)")->capture_default_str();
  cmd->add_option("--size", spec->size, "image side in pixels")->capture_default_str();
  cmd->add_option("--seed", spec->seed, "random seed")->capture_default_str();
  cmd->add_option("--task", spec->task, "pneumonia (NORMAL, PNEUMONIA) | findings (CARDIOMEGALY, NODULES, NORMAL)")
      ->capture_default_str();
  cmd->add_flag("--force", spec->force, "OUT_DIR may be non-empty: its train, val and test folders are replaced");
  cmd->callback([spec] {
    std::unique_ptr<ProgressBar> bar;
    const int64_t written = write_demo_data(*spec, [&](int64_t done, int64_t total) {
      if (!bar) bar = std::make_unique<ProgressBar>("write", static_cast<int>(total), 1.0, 20);
      bar->update(static_cast<int>(done));
    });
    if (bar) bar->finish();
    std::string classes;
    for (const std::string& c : demo_task_classes(spec->task)) classes += (classes.empty() ? "" : ",") + c;
    std::printf("wrote %lld synthetic chest X-rays to %s/{train,val,test}/{%s}\n", static_cast<long long>(written),
                spec->out_dir.c_str(), classes.c_str());
  });
}

}  // namespace cxr::cli
