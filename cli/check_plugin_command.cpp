// `cxrtune check-plugin LIB.so [--op NAME] [--json]`: the finite-difference gradcheck and the
// backend parity sweep (plugins/checks/plugin_check.h) over what a layer plugin registers, as a
// pass/fail table with the worst error of each check, or as JSON. Exit 0 when every check passes
// (skips included: a backend this machine cannot run), 1 when any fails, 2 for bad input (the
// library cannot be loaded, registers nothing, or --op names an op it does not register).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/errors.h"
#include "plugins/checks/plugin_check.h"

namespace cxr::cli {
namespace {

// A check that ran and failed: exit 1, apart from the input errors (2) and runtime failures (3).
class ChecksFailed final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 1; }
};

const char* status(const checks::CheckRow& r) { return r.skipped ? "skip" : r.passed ? "pass" : "FAIL"; }

void print_table(const checks::PluginReport& report) {
  std::printf("plugin %s: ops", report.plugin.c_str());
  for (const std::string& op : report.ops) std::printf(" %s", op.c_str());
  std::printf("\n%-10s %-22s %-10s %-13s %-6s %10s %10s  %s\n", "check", "op", "backend", "precision", "result",
              "worst", "tolerance", "where (worst) / why");
  for (const checks::CheckRow& r : report.rows) {
    const std::string note = r.skipped ? r.skip_reason : r.worst_where;
    char worst[32] = "-";  // a skipped check measured nothing
    if (!r.skipped) std::snprintf(worst, sizeof worst, "%.2e", r.worst);
    std::printf("%-10s %-22s %-10s %-13s %-6s %10s %10.0e  %s\n", r.kind.c_str(), r.op.c_str(), r.backend.c_str(),
                r.precision.c_str(), status(r), worst, r.tolerance, note.c_str());
    for (const std::string& f : r.failures) std::printf("    %s\n", f.c_str());
  }
  for (const std::string& n : report.notes) std::printf("note: %s\n", n.c_str());
}

nlohmann::json to_json(const checks::PluginReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const checks::CheckRow& r : report.rows)
    rows.push_back({{"check", r.kind},          {"op", r.op},
                    {"backend", r.backend},     {"precision", r.precision},
                    {"result", r.skipped ? "skip" : r.passed ? "pass" : "fail"},
                    {"worst_error", r.worst},   {"tolerance", r.tolerance},
                    {"worst_where", r.worst_where}, {"runs", r.runs},
                    {"skip_reason", r.skip_reason}, {"failures", r.failures}});
  return {{"plugin", report.plugin}, {"ops", report.ops}, {"passed", report.passed()}, {"checks", rows},
          {"notes", report.notes}};
}

}  // namespace

void add_check_plugin_command(CLI::App& app) {
  auto lib = std::make_shared<std::string>(), op = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("check-plugin", "gradient check and backend parity of a layer plugin's ops");
  cmd->add_option("LIB", *lib, "the plugin shared library (exports cxrtune_register_plugin)")->required();
  cmd->add_option("--op", *op, "check only this op");
  cmd->add_flag("--json", *json, "print the results as JSON");
  cmd->callback([lib, op, json] {
    const checks::PluginReport report = checks::check_plugin(*lib, *op);
    if (*json) std::printf("%s\n", to_json(report).dump(2).c_str());
    else print_table(report);
    if (report.passed()) return;
    std::string failed;
    int n = 0;
    for (const checks::CheckRow& r : report.rows)
      if (!r.skipped && !r.passed) failed += (n++ ? ", " : "") + r.kind + " " + r.op + "/" + r.backend + "/" + r.precision;
    throw ChecksFailed("check-plugin " + *lib + ": " + std::to_string(n) + " check(s) failed: " + failed);
  });
}

}  // namespace cxr::cli
