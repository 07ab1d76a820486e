// Every cxrtune subcommand adds itself to the CLI11 app through one of these functions. A
// command's callback does its work and throws a cxr::Error on failure; main.cpp maps errors to
// exit codes once (docs/exit-codes.md).
#pragma once
#include <CLI/CLI.hpp>

namespace cxr::cli {

void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_weights_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_demo_data_command(CLI::App& app);
void add_dataset_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_check_plugin_command(CLI::App& app);

}  // namespace cxr::cli
