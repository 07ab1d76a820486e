// Subcommands of contracts.md that are not built yet. Each says so and exits 2: no stub that
// pretends. A command moves out of this file when its own <name>_command.cpp lands.
#include <string>

#include "cli/commands.h"
#include "engine/errors.h"

namespace cxr::cli {
namespace {

void add_pending(CLI::App& app, const std::string& name, const std::string& what) {
  auto* cmd = app.add_subcommand(name, what + " (not built yet)");
  cmd->allow_extras();
  cmd->callback([name] {
    throw UsageError("'cxrtune " + name + "' is not built yet in this version of cxrtune");
  });
}

}  // namespace

void add_eval_command(CLI::App& app) { add_pending(app, "eval", "score a checkpoint"); }

}  // namespace cxr::cli
