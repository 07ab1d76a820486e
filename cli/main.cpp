// cxrtune entry point: parses flags (CLI11), runs one subcommand, and maps errors to the exit
// codes of the README: 0 ok, 2 bad usage/recipe/data (and a backend this machine cannot run),
// 3 runtime failure, 130 interrupted.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/errors.h"

namespace {

// `cxrtune help [COMMAND]`: the same text as `--help`, for users who type the word.
void add_help_command(CLI::App& app) {
  auto topic = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("help", "print this help, or a command's (cxrtune help train)");
  cmd->add_option("COMMAND", *topic, "a command");
  cmd->callback([&app, topic] {
    if (topic->empty()) {
      // app.help() would print the selected subcommand's (this one's) help.
      std::printf("%s", app.get_formatter()->make_help(&app, "cxrtune", CLI::AppFormatMode::Normal).c_str());
      return;
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == *topic) {
        std::printf("%s", sub->help("cxrtune").c_str());
        return;
      }
    throw cxr::UsageError("help: no command '" + *topic + "' (cxrtune help lists them)");
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cxrtune: fine-tune chest X-ray classifiers (oneDNN CPU, cuDNN GPU)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CXRTUNE_VERSION);
#ifndef CXRTUNE_ENGINE_ONLY  // engine-only builds (GPU machines without the io libraries): bench
  cxr::cli::add_train_command(app);
  cxr::cli::add_eval_command(app);
  cxr::cli::add_compare_command(app);
  cxr::cli::add_report_command(app);
  cxr::cli::add_inspect_command(app);
  cxr::cli::add_weights_command(app);
  cxr::cli::add_demo_data_command(app);
  cxr::cli::add_dataset_command(app);
  cxr::cli::add_predict_command(app);
  cxr::cli::add_check_plugin_command(app);
#endif
  cxr::cli::add_bench_command(app);
  add_help_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const cxr::Error& e) {
    std::fprintf(stderr, "cxrtune: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::filesystem::filesystem_error& e) {
    // A safety net: the commands turn what the user's paths cause into UsageErrors; what is left
    // (a disk that fails mid-run) is a runtime failure, stated as the OS states it.
    std::fprintf(stderr, "cxrtune: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cxrtune: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
