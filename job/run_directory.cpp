#include "job/run_directory.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "job/run_lock.h"
#include "core/errors.h"
#include "recipes/recipe_parser.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "";
    if (!ga) la = "(nothing)";
    if (!gb) lb = "(nothing)";
    if (la != lb) return "'" + la + "' in the run, '" + lb + "' given";
  }
}

std::string steps_text(const std::optional<int64_t>& s) { return s ? std::to_string(*s) : "null"; }

}  // namespace

bool run_dir_has_content(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename() != ".lock") return true;
  return false;
}

void check_new_run_dir(const std::string& dir, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw UsageError("--out " + dir + " is a file, not a directory");
  if (run_dir_has_content(dir) && !force)
    throw UsageError("--out " + dir + " is not empty: `cxrtune train --resume " + dir +
                     "` continues that run; --force clears it and starts over, or give a new --out");
  fs::path parent = fs::absolute(dir, ec);
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.parent_path()) parent = parent.parent_path();
  if (!fs::is_directory(parent, ec) || ::access(parent.c_str(), W_OK | X_OK) != 0)
    throw UsageError("--out " + dir + ": cannot create a run directory there (" + parent.string() + " is not writable)");
}

void clear_run_dir(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != ".lock") fs::remove_all(e.path());
}

Recipe resumed_recipe(const std::string& run_dir, const std::string& recipe_path,
                      const std::vector<std::string>& overrides, std::vector<std::string>& notes) {
  const std::string own_path = (fs::path(run_dir) / "recipe.yaml").string();
  const Recipe own = parse_recipe_file(own_path);
  Recipe given = recipe_path.empty() ? parse_recipe_file(own_path, overrides) : parse_recipe_file(recipe_path, overrides);
  Recipe same = given;
  same.train.epochs = own.train.epochs;
  same.train.max_steps = own.train.max_steps;
  // Micro-batches per step may change with the number of processes (docs/distributed.md): the
  // global batch, and so the step, stays the same.
  same.train.accumulate_steps = own.train.accumulate_steps;
  const std::string diff = first_difference(recipe_to_yaml(own), recipe_to_yaml(same));
  if (!diff.empty())
    throw UsageError("--resume " + run_dir + ": a resumed run continues its own recipe (" + own_path +
                     "); only train.epochs and train.max_steps may change, but " +
                     (recipe_path.empty() ? std::string("--set") : recipe_path) + " differs: " + diff +
                     ". To start over with another recipe, give a new --out");
  Recipe out = own;
  out.train.epochs = given.train.epochs;
  out.train.max_steps = given.train.max_steps;
  out.train.accumulate_steps = given.train.accumulate_steps;
  if (out.train.accumulate_steps != own.train.accumulate_steps)
    notes.push_back("train.accumulate_steps " + std::to_string(own.train.accumulate_steps) + " -> " +
                    std::to_string(out.train.accumulate_steps));
  if (out.train.epochs != own.train.epochs)
    notes.push_back("train.epochs " + std::to_string(own.train.epochs) + " -> " + std::to_string(out.train.epochs));
  if (out.train.max_steps != own.train.max_steps)
    notes.push_back("train.max_steps " + steps_text(own.train.max_steps) + " -> " + steps_text(out.train.max_steps));
  return out;
}

void fork_run_dir(const std::string& from, const std::string& to) {
  if (run_dir_has_content(to))
    throw UsageError("--out " + to + " is not empty: a fork (--resume " + from + " --out " + to +
                     ") goes into a new directory");
  const RunLock lock(from);  // the copy must not catch a checkpoint half-way
  const fs::path staging = fs::path(to).string() + ".tmp." + std::to_string(::getpid());
  try {
    fs::create_directories(staging);
    for (const auto& e : fs::recursive_directory_iterator(from)) {
      const fs::path rel = fs::relative(e.path(), from);
      const std::string top = rel.begin()->string();
      if (top == ".lock" || top == "eval" || top == "report.html" || rel.string().find(".tmp.") != std::string::npos)
        continue;
      if (e.is_directory()) fs::create_directories(staging / rel);
      else if (e.is_regular_file()) fs::copy_file(e.path(), staging / rel);
    }
    if (fs::exists(to)) fs::remove_all(to);  // nothing but a lock file (checked above)
    fs::rename(staging, to);
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw RuntimeFailure("cannot copy the run " + from + " to " + to + ": " + e.code().message());
  }
}

}  // namespace cxr
