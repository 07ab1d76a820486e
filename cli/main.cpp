// cxrtune entry point: parses flags (CLI11), runs one subcommand, and maps errors to the exit
// codes of contracts.md: 0 ok, 2 bad usage/recipe/data, 3 runtime failure, 130 interrupted.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "engine/errors.h"

int main(int argc, char** argv) {
  CLI::App app{"cxrtune: fine-tune chest X-ray classifiers (oneDNN CPU, cuDNN GPU)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CXRTUNE_VERSION);
#ifndef CXRTUNE_ENGINE_ONLY  // engine-only builds (GPU machines without the io libraries): bench
  cxr::cli::add_train_command(app);
  cxr::cli::add_eval_command(app);
  cxr::cli::add_report_command(app);
  cxr::cli::add_inspect_command(app);
  cxr::cli::add_weights_command(app);
  cxr::cli::add_demo_data_command(app);
#endif
  cxr::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const cxr::Error& e) {
    std::fprintf(stderr, "cxrtune: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cxrtune: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
