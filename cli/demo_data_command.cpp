// `cxrtune demo-data OUT_DIR [--count N] [--size S] [--seed K]` (contracts.md).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "io/demo_data.h"

namespace cxr::cli {

void add_demo_data_command(CLI::App& app) {
  auto spec = std::make_shared<DemoDataSpec>();
  auto* cmd = app.add_subcommand("demo-data", "write a synthetic chest X-ray set (DICOM and PNG)");
  cmd->add_option("OUT_DIR", spec->out_dir, "output folder")->required();
  cmd->add_option("--count", spec->count, "images in all splits")->capture_default_str();
  cmd->add_option("--size", spec->size, "image side in pixels")->capture_default_str();
  cmd->add_option("--seed", spec->seed, "random seed")->capture_default_str();
  cmd->callback([spec] {
    std::unique_ptr<ProgressBar> bar;
    write_demo_data(*spec, [&](int64_t done, int64_t total) {
      if (!bar) bar = std::make_unique<ProgressBar>("write", static_cast<int>(total), 1.0, 20);
      bar->update(static_cast<int>(done));
    });
    if (bar) bar->finish();
    std::printf("wrote %lld synthetic chest X-rays to %s/{train,val,test}/{NORMAL,PNEUMONIA}\n",
                static_cast<long long>(spec->count / 2 * 2), spec->out_dir.c_str());
  });
}

}  // namespace cxr::cli
