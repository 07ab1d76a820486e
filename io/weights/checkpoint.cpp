#include "io/weights/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/errors.h"
#include "io/weights/checkpoint_fields.h"
#include "io/weights/safetensors.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimFile = "optim.safetensors";

// Not the training RNG: ids only have to differ between checkpoints, runs and machines.
std::string fresh_id() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string checkpoint_dir_name(int64_t step, const std::string& id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld-", static_cast<long long>(step));
  return buf + id;
}

// step-<step>-<id> (never a .tmp.<pid> one): its step, or -1.
int64_t step_of_dir_name(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.find(".tmp.") != std::string::npos) return -1;
  const auto dash = name.find('-', 5);
  if (dash == std::string::npos) return -1;
  try {
    return std::stoll(name.substr(5, dash - 5));
  } catch (const std::exception&) {
    return -1;
  }
}

// NAME.tmp.<digits>: what write_file_atomic and the store write before their rename.
bool is_temporary(const std::string& name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string::npos || at + 5 == name.size()) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(at) + 5, name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string pid_suffix() { return ".tmp." + std::to_string(::getpid()); }

void check_format(const std::string& path, const std::map<std::string, std::string>& metadata,
                  const std::string& expected_arch) {
  const auto format = metadata.find("format");
  if (format == metadata.end()) throw UsageError(path + ": not a cxrtune checkpoint (no format in __metadata__)");
  if (format->second != kCheckpointFormat)
    throw UsageError(path + ": checkpoint format " + format->second + ", this cxrtune reads format " +
                     kCheckpointFormat);
  const auto arch = metadata.find("arch");
  if (!expected_arch.empty() && (arch == metadata.end() || arch->second != expected_arch))
    throw UsageError(path + ": checkpoint of " + (arch == metadata.end() ? "an unknown architecture" : arch->second) +
                     ", the recipe builds " + expected_arch);
}

std::string meta_or(const std::map<std::string, std::string>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

// Cleanup after a failed save: not a fault point, and its own failure must not hide the first.
void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

}  // namespace

std::string optimizer_path(const std::string& checkpoint_path) {
  const fs::path p(checkpoint_path);
  const std::string stem = p.extension() == ".safetensors" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".optim.safetensors")).string();
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  StateDict model = c.model, optim = c.optimizer;
  model.metadata = c.metadata;
  model.metadata["format"] = kCheckpointFormat;
  optim.metadata["format"] = kCheckpointFormat;
  write_safetensors(optimizer_path(path), optim);
  write_safetensors(path, model);
}

Checkpoint load_checkpoint(const std::string& path, const std::string& expected_arch) {
  Checkpoint c;
  c.model = read_safetensors(path);
  c.metadata = c.model.metadata;
  check_format(path, c.metadata, expected_arch);
  const std::string opt = optimizer_path(path);
  if (fs::exists(opt)) c.optimizer = read_safetensors(opt);
  return c;
}

CheckpointStore::CheckpointStore(std::string dir, FileOps& ops) : dir_(std::move(dir)), ops_(ops) {}

std::string CheckpointStore::describe_last() const {
  return last_step_ < 0 ? std::string() : "checkpoints/last.safetensors (step " + std::to_string(last_step_) + ")";
}

void CheckpointStore::save(const std::string& name, Checkpoint c) {
  const std::string step = c.metadata.at("step");
  const std::string run_dir = fs::path(dir_).parent_path().string();
  const auto failed = [&](const std::string& what) {
    return RuntimeFailure("the checkpoint of step " + step + " was not written (" + what + "); " +
                          (last_step_ < 0 ? "no checkpoint of this run is complete yet, so --resume starts it over"
                                          : describe_last() + " is intact") +
                          ": continue with cxrtune train --resume " + run_dir);
  };
  ops_.note("save " + name + " at step " + step);
  c.metadata["format"] = kCheckpointFormat;
  if (!saved_dir_.empty() && c.metadata == saved_metadata_) {
    try {
      point(name, saved_dir_);
    } catch (const RuntimeFailure& e) {
      throw failed(e.what());
    }
    return;
  }
  const std::string id = fresh_id();
  // The job wrote "step" itself: a bad one is a bug of the caller, never the user's input.
  int64_t step_number = -1;
  try {
    step_number = std::stoll(step);
  } catch (const std::exception&) {
    throw std::logic_error("CheckpointStore::save: metadata step '" + step + "' is not an integer");
  }
  const std::string final_name = checkpoint_dir_name(step_number, id);
  const std::string staging = dir_ + "/" + final_name + pid_suffix();
  c.model.metadata = c.metadata;
  c.model.metadata["checkpoint_id"] = id;
  c.optimizer.metadata = {{"format", kCheckpointFormat}, {"checkpoint_id", id}, {"step", step}, {"kind", "optimizer"}};
  try {
    ops_.make_dir(staging);
    ops_.write_file(staging + "/" + kModelFile, serialize_safetensors(c.model));
    ops_.fsync_file(staging + "/" + kModelFile);
    ops_.write_file(staging + "/" + kOptimFile, serialize_safetensors(c.optimizer));
    ops_.fsync_file(staging + "/" + kOptimFile);
    ops_.fsync_dir(staging);
    ops_.rename(staging, dir_ + "/" + final_name);
    ops_.fsync_dir(dir_);
  } catch (const RuntimeFailure& e) {
    remove_quietly(staging);
    throw failed(e.what());
  }
  saved_dir_ = final_name;
  saved_metadata_ = std::move(c.metadata);
  try {
    point(name, final_name);
  } catch (const RuntimeFailure& e) {
    throw failed(e.what());
  }
}

void CheckpointStore::point(const std::string& name, const std::string& checkpoint_dir) {
  const std::string link_tmp = dir_ + "/" + name + pid_suffix();
  remove_quietly(link_tmp);
  try {
    ops_.link(dir_ + "/" + checkpoint_dir + "/" + kModelFile, link_tmp);
    ops_.rename(link_tmp, dir_ + "/" + name + ".safetensors");
    ops_.fsync_dir(dir_);
  } catch (const RuntimeFailure&) {
    remove_quietly(link_tmp);
    throw;
  }
  if (name != "last") return;
  if (checkpoint_dir != last_) {
    previous_ = last_;
    last_ = checkpoint_dir;
  }
  last_step_ = step_of_dir_name(checkpoint_dir);
  prune();
}

void CheckpointStore::prune() {
  std::vector<std::string> old;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string n = e.path().filename().string();
    if (step_of_dir_name(n) >= 0 && n != last_ && n != previous_ && n != saved_dir_) old.push_back(n);
  }
  for (const std::string& n : old) {
    std::vector<std::string> files;
    for (const auto& f : fs::directory_iterator(dir_ + "/" + n)) files.push_back(f.path().string());
    for (const std::string& f : files) ops_.unlink(f);
    ops_.remove_dir(dir_ + "/" + n);
  }
}

void CheckpointStore::remove_debris() {
  for (const std::string& d : {fs::path(dir_).parent_path().string(), dir_}) {
    std::vector<fs::path> debris;
    for (const auto& e : fs::directory_iterator(d))
      if (is_temporary(e.path().filename().string())) debris.push_back(e.path());
    for (const fs::path& p : debris) {
      if (fs::is_directory(p)) {
        std::vector<std::string> files;
        for (const auto& f : fs::directory_iterator(p)) files.push_back(f.path().string());
        for (const std::string& f : files) ops_.unlink(f);
        ops_.remove_dir(p.string());
      } else {
        ops_.unlink(p.string());
      }
    }
  }
}

std::optional<Checkpoint> CheckpointStore::load_pair(const std::string& model_path, const std::string& optim_path,
                                                     const std::string& expected_arch, std::string& why) const {
  Checkpoint c;
  try {
    c.model = read_safetensors(model_path);
    c.metadata = c.model.metadata;
    check_format(model_path, c.metadata, expected_arch);
    if (!fs::exists(optim_path)) {
      why = "its optimizer state " + optim_path + " is missing";
      return std::nullopt;
    }
    c.optimizer = read_safetensors(optim_path);
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
  const std::string id = meta_or(c.metadata, "checkpoint_id");
  if (id.empty()) return c;  // written before checkpoint ids: the caller says so
  if (meta_or(c.optimizer.metadata, "checkpoint_id") != id ||
      meta_or(c.optimizer.metadata, "step") != meta_or(c.metadata, "step")) {
    why = "its optimizer state " + optim_path + " belongs to another checkpoint (step " +
          meta_or(c.optimizer.metadata, "step") + ", id " + meta_or(c.optimizer.metadata, "checkpoint_id") + ")";
    return std::nullopt;
  }
  return c;
}

std::optional<Checkpoint> CheckpointStore::load_for_resume(const std::string& expected_arch,
                                                           std::vector<std::string>& notes) {
  // Checkpoint directories, newest first.
  std::vector<std::pair<int64_t, std::string>> dirs;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string n = e.path().filename().string();
    const int64_t s = step_of_dir_name(n);
    if (s >= 0 && e.is_directory()) dirs.emplace_back(s, n);
  }
  std::sort(dirs.rbegin(), dirs.rend());
  const auto adopt = [&](const std::string& name, int64_t step) {
    last_ = name;
    last_step_ = step;
    previous_.clear();
    for (const auto& [s, n] : dirs)
      if (n != name && s <= step) {
        previous_ = n;
        break;
      }
  };

  const std::string last = dir_ + "/last.safetensors";
  std::string why = "is missing", failed;
  if (fs::exists(last)) {
    Checkpoint probe;
    try {
      probe.metadata = read_safetensors(last).metadata;
    } catch (const Error& e) {
      why = std::string("cannot be read (") + e.what() + ")";
    }
    const std::string id = meta_or(probe.metadata, "checkpoint_id");
    if (!probe.metadata.empty() && id.empty()) {
      // A run directory of an older cxrtune: last.optim.safetensors beside it, not verifiable.
      std::optional<Checkpoint> c = load_pair(last, optimizer_path(last), expected_arch, why);
      if (c) {
        notes.push_back(last + " was written by an older cxrtune without checkpoint ids: its optimizer state " +
                        optimizer_path(last) + " is assumed to belong to it");
        return c;
      }
    } else if (!id.empty()) {
      // A damaged step field makes last.safetensors unusable, like any other damage: fall back.
      int64_t step_done = -1;
      try {
        step_done = CheckpointFields(last, probe.metadata).integer("step");
      } catch (const UsageError& e) {
        why = std::string("cannot be used (") + e.what() + ")";
      }
      if (step_done >= 0) {
        failed = checkpoint_dir_name(step_done, id);
        std::optional<Checkpoint> c = load_pair(last, dir_ + "/" + failed + "/" + kOptimFile, expected_arch, why);
        if (c) {
          adopt(failed, step_done);
          prune();  // a kill while pruning after the commit left an old checkpoint half-removed
          return c;
        }
      }
    }
  }
  for (const auto& [step, name] : dirs) {
    if (name == failed) continue;
    std::string skip_why;
    std::optional<Checkpoint> c =
        load_pair(dir_ + "/" + name + "/" + kModelFile, dir_ + "/" + name + "/" + kOptimFile, expected_arch, skip_why);
    if (!c) continue;
    notes.push_back("checkpoints/last.safetensors " + why + "; resuming from the newest complete checkpoint, step " +
                    std::to_string(step) + " (checkpoints/" + name + ")");
    adopt(name, step);
    point("last", name);
    return c;
  }
  notes.push_back("checkpoints/last.safetensors " + why +
                  " and no other checkpoint is complete: the run starts over from checkpoints/init.safetensors");
  return std::nullopt;
}

}  // namespace cxr
