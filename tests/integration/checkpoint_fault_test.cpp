// Crash-consistent checkpoints, end to end through the command line. Training is killed
// (SIGKILL) or hits a full disk (EFBIG) at each file operation of a checkpoint save in turn,
// through the writer's fault points (CXRTUNE_TEST_FAULT=<n>:kill|efbig; `trace` lists them), and
// `--resume` must reproduce the unbroken run's losses bit for bit (metrics.jsonl loss values
// compared as text) and leave no temporary file behind. A second writer of a run directory is
// refused naming the first one's pid; a non-finite loss never names a checkpoint that does not
// exist.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/support/cli_run.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

// CXRTUNE_TEST_BINARY runs these tests against another build (an older one, to see them fail).
const std::string& kBin = cxr::test::cxrtune_binary();
using cxr::test::Result;
using cxr::test::slurp;

// `env` is prepended (VAR=value ...); stdout and stderr go to `log`.
Result run(const std::string& args, const fs::path& log, const std::string& env = "") {
  return cxr::test::run_cxrtune(args, log, "env " + env);
}

// The loss of every step record and the losses of every epoch record, as written.
std::vector<std::string> losses(const fs::path& run_dir) {
  static const std::regex loss(R"re("(loss|train_loss|val_loss)":([^,}]*))re");
  std::vector<std::string> out;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    for (auto it = std::sregex_iterator(line.begin(), line.end(), loss); it != std::sregex_iterator(); ++it)
      out.push_back((*it)[1].str() + "=" + (*it)[2].str());
  return out;
}

std::vector<std::string> leftovers(const fs::path& run_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(run_dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
  return out;
}

int checkpoint_dirs(const fs::path& run_dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(run_dir / "checkpoints"))
    n += e.is_directory() && e.path().filename().string().rfind("step-", 0) == 0;
  return n;
}

std::string train_args(const fs::path& root, const fs::path& out) {
  return "train " + (root / "recipe.yaml").string() + " --out " + out.string() + " --no-report";
}

class CheckpointFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // tmpfs where there is one: the fsyncs are the operations under test, not the disk's speed.
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    root_ = base / ("cxr_ckpt_" + std::to_string(getpid()));
    fs::create_directories(root_);
    const Result r = run("demo-data " + (root_ / "data").string() + " --count 12 --size 40 --seed 5", root_ / "data.log");
    ASSERT_EQ(r.code, 0) << r.output;
    // 6 training images in batches of 3: two steps, a checkpoint after each, the epoch's best.
    // The reference backend: at this size it is the fastest, and checkpoints do not depend on it;
    // the first stages frozen, for speed (layer3, layer4 and fc still carry momentum buffers).
    std::ofstream(root_ / "recipe.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " +
                                                (root_ / "data/train").string() + "\n  val: " + (root_ / "data/val").string() +
                                                "\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 3\n  backend: reference\n"
                                                "  checkpoint_every: 1\n  threads: 1\noptimizer:\n  name: sgd\n  lr: 0.01\n"
                                                "  momentum: 0.9\n  freeze: [conv1, layer1, layer2]\n";
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static std::string train(const fs::path& out) { return train_args(root_, out); }
  static inline fs::path root_;
};

// Runs the unbroken run with the fault points traced, then, for each chosen operation, a run
// with `mode` at that operation and its resume. Returns one message per failed case.
std::vector<std::string> fault_cases(const fs::path& root, const std::string& mode) {
  std::vector<std::string> failures;
  const fs::path base = root / ("unbroken_" + mode);
  const Result r = run(train_args(root, base), base.string() + ".log", "CXRTUNE_TEST_FAULT=trace");
  const std::vector<std::string> expected = losses(base);
  // 2 step losses, then the epoch's train and val loss.
  if (r.code != 0 || expected.size() != 4u) return {"the unbroken run failed: " + r.output};

  // The fault points, grouped by the save they belong to.
  struct Save {
    std::string what;
    std::vector<int> ops;
  };
  std::vector<Save> saves;
  std::istringstream lines(r.output);
  const std::regex point(R"(fault point (\d+): )");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (line.find("fault trace: save ") != std::string::npos) saves.push_back({line.substr(line.find("save ")), {}});
    else if (std::regex_search(line, m, point) && !saves.empty()) saves.back().ops.push_back(std::stoi(m[1]));
  }
  // last (step 1), last (step 2), then best and last of the epoch's end.
  if (saves.size() != 4u || saves[1].ops.size() != 11u || saves[3].ops.size() != 6u) return {"fault points: " + r.output};
  // Every operation of the second save (a new checkpoint with one before it: write, fsync, rename,
  // link) and of the last save (the last pointed at the new best, the oldest checkpoint pruned:
  // link, rename, unlink, rmdir); of the first save (nothing before it but the initial weights)
  // the model's write and the commit. The third save is the second one's operations again.
  std::vector<int> chosen = saves[1].ops;
  chosen.insert(chosen.end(), saves[3].ops.begin(), saves[3].ops.end());
  chosen.push_back(saves[0].ops[1]);
  chosen.push_back(saves[0].ops[9]);

  const auto one_case = [&](int op) -> std::string {
    const fs::path dir = root / ("f" + std::to_string(op) + mode);
    std::ostringstream fail;
    const Result hit = run(train_args(root, dir), dir.string() + ".log", "CXRTUNE_TEST_FAULT=" + std::to_string(op) + ":" + mode);
    if (mode == "kill" && hit.code != 128 + SIGKILL) fail << "not killed (" << hit.code << "): " << hit.output;
    if (mode == "efbig" && (hit.code != 3 || hit.output.find("File too large") == std::string::npos ||
                            hit.output.find("--resume") == std::string::npos))
      fail << "exit " << hit.code << " without a clear message: " << hit.output;
    const Result resumed = run("train --resume " + dir.string() + " --no-report", dir.string() + ".resume.log");
    if (resumed.code != 0) fail << "resume failed: " << resumed.output;
    if (losses(dir) != expected) fail << "losses differ after resuming: " << slurp(dir / "metrics.jsonl") << resumed.output;
    for (const std::string& f : leftovers(dir)) fail << "left behind: " << f << "\n";
    if (checkpoint_dirs(dir) > 2) fail << checkpoint_dirs(dir) << " checkpoints kept\n";
    if (!fs::exists(dir / "checkpoints/last.safetensors") || !fs::exists(dir / "checkpoints/best.safetensors"))
      fail << "no last or best checkpoint\n";
    fs::remove_all(dir);
    return fail.str().empty() ? "" : "fault at operation " + std::to_string(op) + " (" + mode + "): " + fail.str();
  };
  // Two at a time: each process runs one thread.
  for (size_t i = 0; i < chosen.size(); i += 2) {
    auto other = i + 1 < chosen.size() ? std::async(std::launch::async, one_case, chosen[i + 1]) : std::future<std::string>();
    for (const std::string& f : {one_case(chosen[i]), other.valid() ? other.get() : std::string()})
      if (!f.empty()) failures.push_back(f);
  }
  return failures;
}

TEST_F(CheckpointFaults, KillAtEveryFileOperationResumesToTheSameLosses) {
  for (const std::string& f : fault_cases(root_, "kill")) ADD_FAILURE() << f;
}

TEST_F(CheckpointFaults, FullDiskAtEveryFileOperationFailsClearlyAndResumesToTheSameLosses) {
  for (const std::string& f : fault_cases(root_, "efbig")) ADD_FAILURE() << f;
}

TEST_F(CheckpointFaults, ResumeFallsBackWhenTheNewestPairIsMismatched) {
  const fs::path base = root_ / "pair_base", dir = root_ / "pair";
  ASSERT_EQ(run(train(base), root_ / "pair_base.log").code, 0);
  // Stop after the first step's checkpoint; then give the newest pair another checkpoint's
  // optimizer state, as the old writer's kill between its two renames did.
  ASSERT_EQ(run(train(dir) + " --set train.max_steps=2", root_ / "pair1.log").code, 0);
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(dir / "checkpoints"))
    if (e.is_directory()) dirs.push_back(e.path());
  ASSERT_EQ(dirs.size(), 2u);
  std::sort(dirs.begin(), dirs.end());  // step-00000001-…, step-00000002-…
  fs::copy_file(dirs[0] / "optim.safetensors", dirs[1] / "optim.safetensors", fs::copy_options::overwrite_existing);
  const Result resumed = run("train --resume " + dir.string() + " --no-report --set train.max_steps=null", root_ / "pair2.log");
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("belongs to another checkpoint"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("step 1"), std::string::npos) << resumed.output;
  EXPECT_EQ(losses(dir), losses(base));
}

TEST_F(CheckpointFaults, SecondWriterOfARunDirectoryIsRefusedNamingThePid) {
  const fs::path dir = root_ / "locked";
  const std::string log = (root_ / "locked.log").string();
  std::vector<std::string> args = {kBin, "train", (root_ / "recipe.yaml").string(), "--out", dir.string(), "--no-report",
                                   "--set", "train.epochs=500", "--set", "train.checkpoint_every=epoch"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, kBin.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  for (int i = 0; i < 1200 && !(fs::exists(dir / "metrics.jsonl") && fs::file_size(dir / "metrics.jsonl") > 0); ++i)
    usleep(100000);
  // --force too: a second start must not clear a running run's directory either.
  const Result second = run(train(dir) + " --force", root_ / "second.log");
  const Result resume = run("train --resume " + dir.string() + " --no-report", root_ / "second_resume.log");
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(second.code, 2) << second.output;
  EXPECT_NE(second.output.find("pid " + std::to_string(pid)), std::string::npos) << second.output;
  EXPECT_EQ(resume.code, 2) << resume.output;
  EXPECT_NE(resume.output.find("pid " + std::to_string(pid)), std::string::npos) << resume.output;
  // Every step logged once, by the one writer.
  std::vector<int64_t> steps;
  std::ifstream in(dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "step") steps.push_back(j["step"].get<int64_t>());
  }
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i], static_cast<int64_t>(i));
}

// conv1 weights so large that the first forward pass overflows: the batch-norm statistics are
// poisoned before any checkpoint exists, so no checkpoint may be named as the last good one.
TEST_F(CheckpointFaults, NonFiniteBeforeAnyCheckpointNamesNone) {
  const fs::path seed_run = root_ / "poison_seed";
  ASSERT_EQ(run(train(seed_run) + " --set train.max_steps=1", root_ / "poison_seed.log").code, 0);
  std::string bytes = slurp(seed_run / "checkpoints/init.safetensors");
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
  const auto offsets = header["conv1.weight"]["data_offsets"];
  for (size_t at = 8 + header_len + offsets[0].get<size_t>(); at < 8 + header_len + offsets[1].get<size_t>(); at += 4) {
    const float big = 1e38f;
    std::memcpy(bytes.data() + at, &big, 4);
  }
  std::ofstream(root_ / "poison.safetensors", std::ios::binary) << bytes;
  const fs::path dir = root_ / "poisoned";
  const Result r = run(train(dir) + " --set model.weights=" + (root_ / "poison.safetensors").string() +
                           " --set train.checkpoint_every=epoch",
                       root_ / "poisoned.log");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("non-finite"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "checkpoints/last.safetensors"));
  EXPECT_EQ(r.output.find("checkpoints/last.safetensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no good checkpoint"), std::string::npos) << r.output;
}

}  // namespace
