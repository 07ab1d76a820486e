// `cxrtune compare A.json B.json` on hand-written eval outputs (no training: a few ms each):
// identical predictions give Δ = 0 and p = 1; different ones give delong_paired_test's Δ and
// p-value, with B's rows matched to A's by path whatever their order; samples that differ are
// refused (exit 2) by name; the macro of three classes is the mean of the class Δs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/delong.h"
#include "io/csv.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBin = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";

fs::path root() {
  const fs::path r = fs::temp_directory_path() / ("cxr_compare_" + std::to_string(getpid()));
  fs::create_directories(r);
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run(const std::string& args, std::string* output = nullptr) {
  const fs::path log = root() / "out.log";
  const int status = std::system((kBin + " " + args + " > " + log.string() + " 2>&1").c_str());
  if (output) *output = slurp(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A binary eval output: NORMAL/PNEUMONIA, p_PNEUMONIA = score; rows written in `order`.
fs::path write_binary(const std::string& name, const std::vector<double>& score, const std::vector<bool>& pneumonia,
                      const std::vector<size_t>& order) {
  const fs::path dir = root() / name;
  fs::create_directories(dir);
  std::string csv = cxr::csv_row({"path", "label", "p_NORMAL", "p_PNEUMONIA"});
  char a[32], b[32];
  for (size_t i : order) {
    std::snprintf(a, sizeof a, "%.17g", 1 - score[i]);
    std::snprintf(b, sizeof b, "%.17g", score[i]);
    csv += cxr::csv_row({"img" + std::to_string(i) + ".png", pneumonia[i] ? "PNEUMONIA" : "NORMAL", a, b});
  }
  std::ofstream(dir / "predictions.csv") << csv;
  std::ofstream(dir / "metrics.json") << "{}";
  return dir / "metrics.json";
}

const std::vector<bool> kLabels{true, true, true, true, false, false, false, false, true, false};
const std::vector<double> kA{0.9, 0.8, 0.7, 0.4, 0.3, 0.6, 0.2, 0.1, 0.65, 0.35};
const std::vector<double> kB{0.6, 0.7, 0.3, 0.8, 0.5, 0.4, 0.2, 0.55, 0.45, 0.35};
const std::vector<size_t> kInOrder{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, kShuffled{7, 2, 9, 0, 4, 1, 8, 3, 6, 5};

class Compare : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fs::remove_all(root()); }
};

TEST_F(Compare, IdenticalPredictionsGiveDeltaZeroAndPOne) {
  const fs::path a = write_binary("same_a", kA, kLabels, kInOrder), b = write_binary("same_b", kA, kLabels, kShuffled);
  std::string out;
  ASSERT_EQ(run("compare " + a.string() + " " + b.string() + " -o " + (root() / "same.json").string(), &out), 0) << out;
  const json j = json::parse(slurp(root() / "same.json"));
  EXPECT_EQ(j["macro"]["delta"].get<double>(), 0.0);
  EXPECT_EQ(j["macro"]["p_value"].get<double>(), 1.0);
  EXPECT_EQ(j["per_class"]["PNEUMONIA"]["p_value"].get<double>(), 1.0);
  EXPECT_NE(out.find("paired DeLong"), std::string::npos) << out;
}

TEST_F(Compare, DifferentPredictionsGiveDelongPairedTestsPValue) {
  const fs::path a = write_binary("diff_a", kA, kLabels, kInOrder), b = write_binary("diff_b", kB, kLabels, kShuffled);
  ASSERT_EQ(run("compare " + a.string() + " " + b.parent_path().string() + "/predictions.csv -o " +
                (root() / "diff.json").string()),
            0);
  const json j = json::parse(slurp(root() / "diff.json"));
  const cxr::AurocDifference d = cxr::delong_paired_test(kA, kB, kLabels);
  ASSERT_GT(std::abs(d.delta), 0.05);
  const json& m = j["macro"];
  EXPECT_NEAR(m["delta"].get<double>(), d.delta, 1e-12);
  EXPECT_NEAR(m["p_value"].get<double>(), d.p_value, 1e-12);
  EXPECT_NEAR(m["ci95"][0].get<double>(), d.lower, 1e-12);
  EXPECT_NEAR(m["ci95"][1].get<double>(), d.upper, 1e-12);
  // AUROC A by hand: the share of the 25 (positive, negative) pairs A orders right.
  double wins = 0;
  for (size_t i = 0; i < kA.size(); ++i)
    for (size_t k = 0; k < kA.size(); ++k)
      if (kLabels[i] && !kLabels[k]) wins += kA[i] > kA[k] ? 1 : kA[i] == kA[k] ? 0.5 : 0;
  EXPECT_NEAR(m["auroc_a"].get<double>(), wins / 25, 1e-12);
}

TEST_F(Compare, RefusesPredictionsOnDifferentSamples) {
  const fs::path a = write_binary("few_a", kA, kLabels, kInOrder);
  const fs::path b = write_binary("few_b", kA, kLabels, {0, 1, 2, 3, 4, 5, 6, 7, 8});
  std::string out;
  EXPECT_EQ(run("compare " + a.string() + " " + b.string() + " -o " + (root() / "x.json").string(), &out), 2);
  EXPECT_NE(out.find("different samples"), std::string::npos) << out;
  std::vector<bool> flipped = kLabels;
  flipped[3] = !flipped[3];
  const fs::path c = write_binary("flip_b", kA, flipped, kInOrder);
  EXPECT_EQ(run("compare " + a.string() + " " + c.string() + " -o " + (root() / "x.json").string(), &out), 2);
  EXPECT_NE(out.find("img3.png differently"), std::string::npos) << out;
}

}  // namespace
