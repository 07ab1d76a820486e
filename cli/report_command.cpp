// `cxrtune report RUN_DIR [RUN_DIR ...] [-o report.html] [--format html|json]`: one
// self-contained page with several runs side by side (reports/report.h), or with --format json
// the same summary as numbers on stdout for CI. Errors are cxr::Error (main.cpp maps exit codes).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "reports/report.h"

namespace cxr::cli {

void add_report_command(CLI::App& app) {
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>("report.html");
  auto* cmd = app.add_subcommand("report", "one self-contained HTML page from run directories");
  cmd->add_option("RUN_DIR", *dirs, "run directories")->required();
  auto format = std::make_shared<std::string>("html");
  cmd->add_option("-o,--output", *out, "HTML file")->capture_default_str();
  cmd->add_option("--format", *format, "html | json (json: the summary as numbers on stdout)")
      ->check(CLI::IsMember({"html", "json"}))
      ->capture_default_str();
  auto images = std::make_shared<bool>(true);
  cmd->add_flag("!--no-images", *images, "leave pixel data (the Grad-CAM gallery) out of the page");
  cmd->callback([dirs, out, format, images] {
    if (*format == "json") {
      std::printf("%s", report_json(*dirs).c_str());
      return;
    }
    write_report(*dirs, *out, *images);
    std::printf("report: %s\n", out->c_str());
  });
}

}  // namespace cxr::cli
