// train's final evaluation of data.test under `mpirun -np 2 --oversubscribe --allow-run-as-root`
// (issue #20): every rank scores its slice of each test batch and rank 0 writes the gathered
// RUN_DIR/eval/ (job/checkpoint_eval.h, job/rank_checkpoint.h). Batch 6 over 8 test images (a
// full batch and a short one of 2) against one process's `cxrtune eval` of the same best
// checkpoint: the same samples in the same order, each exactly once, the same probabilities and
// the same metrics; rank 1's temporary copy of the checkpoint is gone afterwards.
// Skipped, saying why, when cxrtune was built without MPI or mpirun is not on PATH.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/cli_run.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool have_mpirun() { return std::system("command -v mpirun > /dev/null 2>&1") == 0; }

std::vector<std::vector<std::string>> csv_rows(const fs::path& file) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) {
      if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
      fields.push_back(f);
    }
    rows.push_back(fields);
  }
  return rows;
}

TEST(MpiTestSplit, TwoRanksScoreTheTestSetAsOneProcessDoes) {
  if (!CXRTUNE_HAVE_MPI) GTEST_SKIP() << "cxrtune was built without MPI (find_package(MPI) found none)";
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not on PATH (Open MPI: apt-get install openmpi-bin)";
  const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path root = base / ("cxr_mpi_test_split_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "tmp");
  cxr::test::Result r = cxr::test::run_cxrtune("demo-data " + (root / "data").string() + " --count 40 --size 40 --seed 5",
                                               root / "data.log");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ofstream(root / "recipe.yaml")
      << "model: {arch: resnet18, weights: null, num_classes: 2, in_channels: 3}\n"
      << "data: {train: " << (root / "data/train").string() << ", val: " << (root / "data/val").string()
      << ", test: " << (root / "data/test").string() << ", image_size: 32, augment: none, cache: memory}\n"
      << "train: {epochs: 1, max_steps: 2, batch_size: 6, seed: 1, backend: cpu, threads: 1}\n"
      << "optimizer: {name: adam, lr: 1.0e-3}\nschedule: {name: constant}\nloss: {name: cross_entropy}\n";
  const fs::path run = root / "run";
  // TMPDIR: where rank 1 keeps its copy of the checkpoint (it must be removed at the end).
  r = cxr::test::run_cxrtune("train " + (root / "recipe.yaml").string() + " --out " + run.string() + " --no-report",
                             root / "train.log",
                             "TMPDIR=" + (root / "tmp").string() + " mpirun -np 2 --oversubscribe --allow-run-as-root");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("sharded over 2 ranks"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(root / "tmp")) << "a rank left its checkpoint copy behind";
  r = cxr::test::run_cxrtune("eval --checkpoint " + (run / "checkpoints/best.safetensors").string() + " --data " +
                                 (root / "data/test").string() + " --bootstrap 0 --out " + (root / "one/metrics.json").string(),
                             root / "eval.log");
  ASSERT_EQ(r.code, 0) << r.output;

  const auto two = csv_rows(run / "eval/predictions.csv"), one = csv_rows(root / "one/predictions.csv");
  ASSERT_EQ(two.size(), 9u) << "a header and the 8 test images, each once";
  ASSERT_EQ(two.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(two[i].size(), one[i].size()) << "row " << i;
    EXPECT_EQ(two[i][0], one[i][0]) << "row " << i << ": the samples in another order";
    EXPECT_EQ(two[i][1], one[i][1]) << "row " << i;
    for (size_t c = 2; i > 0 && c < one[i].size(); ++c)
      EXPECT_NEAR(std::stod(two[i][c]), std::stod(one[i][c]), 1e-5) << "row " << i << " column " << c;
  }
  const json a = json::parse(cxr::test::slurp(run / "eval/metrics.json"));
  const json b = json::parse(cxr::test::slurp(root / "one/metrics.json"));
  EXPECT_EQ(a["count"], 8);
  EXPECT_EQ(a["count"], b["count"]);
  EXPECT_EQ(a["confusion"], b["confusion"]);
  EXPECT_NEAR(a["auroc"].get<double>(), b["auroc"].get<double>(), 1e-6);
  EXPECT_NEAR(a["loss"].get<double>(), b["loss"].get<double>(), 1e-5);
  fs::remove_all(root);
}

}  // namespace
