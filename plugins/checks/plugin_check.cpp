#include "plugins/checks/plugin_check.h"

#include <set>

#include "core/errors.h"
#include "plugins/backends.h"
#include "plugins/checks/gradcheck.h"
#include "plugins/checks/parity.h"

namespace cxr::checks {

namespace {

void note_coverage(const LayerRegistry& registry, const std::string& op, std::vector<std::string>& notes) {
  const OpInfo* info = registry.op_info(op);
  if (!info) return;
  bool batch1 = false, odd = false;
  for (const OpCase& c : info->cases())
    for (const Shape& s : c.inputs) {
      if (!s.empty() && s[0] == 1) batch1 = true;
      for (size_t d = 1; d < s.size(); ++d) odd = odd || (s[d] > 1 && s[d] % 2 == 1);
    }
  if (!batch1) notes.push_back(op + ": no test case has batch 1");
  if (!odd) notes.push_back(op + ": no test case has an odd size past the batch dimension");
}

}  // namespace

bool PluginReport::passed() const {
  if (rows.empty()) return false;
  for (const CheckRow& r : rows)
    if (!r.skipped && !r.passed) return false;
  return true;
}

PluginReport check_plugin(const std::string& path, const std::string& only_op) {
  LayerRegistry registry;
  register_all_layers(registry);
  load_plugin(path, registry);
  std::set<std::string> ops, gradchecked;
  for (const std::string& op : registry.ops())
    if (registry.op_origin(op) == path) ops.insert(op), gradchecked.insert(op);
  for (const auto& [op, backend] : registry.entries())
    if (registry.origin(op, backend) == path) {
      ops.insert(op);
      if (backend == "reference") gradchecked.insert(op);
    }
  if (ops.empty()) throw UsageError("plugin " + path + " registers no ops or layers");
  if (!only_op.empty() && !ops.count(only_op)) {
    std::string have;
    for (const std::string& op : ops) have += (have.empty() ? "" : ", ") + op;
    throw UsageError("--op " + only_op + ": plugin " + path + " registers only " + have);
  }
  PluginReport report;
  report.plugin = path;
  for (const std::string& op : ops)
    if (only_op.empty() || op == only_op) report.ops.push_back(op);
  for (const std::string& op : report.ops) {
    if (gradchecked.count(op)) report.rows.push_back(gradcheck_reference(registry, op));
    note_coverage(registry, op, report.notes);
  }
  for (const ParityTarget& t : parity_targets(registry, report.ops))
    if (registry.origin(t.op, t.backend) == path) report.rows.push_back(parity_check(registry, t));
  return report;
}

}  // namespace cxr::checks
