// What the cxrtune command says when the user's input is wrong: a plain sentence naming the
// file and exit 2, never "internal error" (a folder given as a checkpoint, a symbolic-link loop
// in a class folder, a GPU backend on a machine without one); `cxrtune help`; help texts that
// cite only files in the repository; demo data that prints the number it writes and refuses to
// mix with old files; predictions.csv that stays parseable whatever the class names; eval on a
// manifest's test rows.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "io/csv.h"
#include "io/manifest.h"
#include "tests/support/cli_run.h"

namespace {

namespace fs = std::filesystem;
using cxr::csv_row;
using cxr::ManifestSplits;

using cxr::test::Result;
using cxr::test::slurp;

fs::path scratch() {
  const fs::path root = fs::temp_directory_path() / ("cxr_cli_errors_" + std::to_string(getpid()));
  fs::create_directories(root);
  return root;
}

Result run(const std::string& args) { return cxr::test::run_cxrtune(args, scratch() / "out.log"); }

// Exit 2 with a "cxrtune: error:" sentence containing `words`, and no "internal error".
void expect_usage_error(const Result& r, const std::string& words) {
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("cxrtune: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(words), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

int64_t files_under(const fs::path& dir) {
  int64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

class CliErrors : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fs::remove_all(scratch()); }
};

TEST_F(CliErrors, FolderAsCheckpointIsAUsageError) {
  fs::create_directories(scratch() / "ckpt_dir");
  expect_usage_error(run("eval --checkpoint " + (scratch() / "ckpt_dir").string() + " --data " + scratch().string()),
                     "is a folder");
  expect_usage_error(run("eval --checkpoint " + (scratch() / "missing.safetensors").string() + " --data x"), "no such file");
}

TEST_F(CliErrors, SymlinkLoopInAClassFolderIsAUsageError) {
  const fs::path data = scratch() / "loop";
  ASSERT_EQ(run("demo-data " + data.string() + " --count 12 --size 32").code, 0);
  fs::create_directory_symlink("..", data / "train/NORMAL/up");
  std::ofstream(scratch() / "loop.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " +
                                                (data / "train").string() + "\n  val: " + (data / "val").string() +
                                                "\n  image_size: 32\ntrain:\n  backend: cpu\n  batch_size: 2\n";
  expect_usage_error(run("train " + (scratch() / "loop.yaml").string() + " --out " + (scratch() / "loop_run").string() +
                         " --no-report"),
                     "symbolic-link loop");
}

TEST_F(CliErrors, MissingGpuIsExitTwoAsTheReadmeSays) {
  const Result r = run("bench --backend cuda --arch resnet18 --batch 1 --size 32 --steps 1");
  if (r.code == 0) GTEST_SKIP() << "a usable GPU is present: nothing to refuse";
  expect_usage_error(r, "backend 'cuda'");
  // The README's exit-code sentence must put a backend the machine cannot run under 2.
  const std::string readme = slurp(fs::path(CXRTUNE_SOURCE_DIR) / "README.md");
  const size_t at = readme.find("Exit codes:");
  ASSERT_NE(at, std::string::npos);
  const std::string sentence = readme.substr(at, readme.find("\n\n", at) - at);
  const size_t two = sentence.find(" 2 "), three = sentence.find(" 3 ");
  ASSERT_TRUE(two != std::string::npos && three != std::string::npos && two < three) << sentence;
  EXPECT_NE(sentence.substr(two, three - two).find("backend"), std::string::npos) << sentence;
}

TEST_F(CliErrors, HelpWordPrintsTheHelp) {
  const Result all = run("help");
  EXPECT_EQ(all.code, 0) << all.output;
  EXPECT_NE(all.output.find("Subcommands:"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("demo-data"), std::string::npos) << all.output;
  const Result eval = run("help eval");
  EXPECT_EQ(eval.code, 0) << eval.output;
  EXPECT_NE(eval.output.find("--checkpoint"), std::string::npos) << eval.output;
  expect_usage_error(run("help no-such-command"), "no-such-command");
}

TEST_F(CliErrors, HelpTextsCiteOnlyFilesInTheRepository) {
  const std::regex file(R"(([A-Za-z0-9_][A-Za-z0-9_./-]*)\.(md|sh|py|yaml|cpp|h)\b)");
  for (const char* cmd : {"", "train", "eval", "report", "inspect", "weights", "weights info", "weights convert", "bench",
                          "demo-data"}) {
    const Result r = run(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.output;
    for (std::sregex_iterator it(r.output.begin(), r.output.end(), file), end; it != end; ++it) {
      const std::string stem = (*it)[1], name = (*it)[0];
      if (std::regex_match(stem, std::regex("[A-Z_]+"))) continue;  // a placeholder such as RECIPE.yaml
      EXPECT_TRUE(fs::exists(fs::path(CXRTUNE_SOURCE_DIR) / name)) << "`cxrtune " << cmd << " --help` cites " << name;
    }
  }
}

TEST_F(CliErrors, DemoDataPrintsTheNumberItWritesAndRefusesOldFiles) {
  const fs::path out = scratch() / "demo48";
  const Result r = run("demo-data " + out.string() + " --count 48 --size 32");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote 48 "), std::string::npos) << r.output;
  EXPECT_EQ(files_under(out), 48);
  expect_usage_error(run("demo-data " + out.string() + " --count 12 --size 32"), "not empty");
  EXPECT_EQ(files_under(out), 48);
  const Result forced = run("demo-data " + out.string() + " --count 12 --size 32 --force");
  ASSERT_EQ(forced.code, 0) << forced.output;
  EXPECT_EQ(files_under(out), 12);
}

// A tiny run whose class names hold a quote, a '>' and a comma; eval on the folder and on a
// manifest's test rows must write a predictions.csv that an RFC 4180 reader splits as written.
TEST_F(CliErrors, PredictionsCsvQuotesEveryFieldAndEvalReadsManifestTestRows) {
  const fs::path root = scratch() / "quoted", demo = root / "demo", data = root / "data";
  ASSERT_EQ(run("demo-data " + demo.string() + " --count 12 --size 32").code, 0);
  const std::vector<std::string> classes{"a\">b,c", "plain"};
  std::string manifest = csv_row({"path", "label", "split"});
  for (size_t k = 0; k < 2; ++k) {
    fs::create_directories(data / classes[k]);
    for (const char* split : {"train", "val", "test"})
      for (const auto& e : fs::directory_iterator(demo / split / (k ? "PNEUMONIA" : "NORMAL"))) {
        fs::copy_file(e.path(), data / classes[k] / e.path().filename());
        manifest += csv_row({classes[k] + "/" + e.path().filename().string(), classes[k], split});
      }
  }
  std::ofstream(data / "manifest.csv") << manifest;
  std::ofstream(root / "r.yaml") << "model:\n  arch: resnet18\n  num_classes: 2\ndata:\n  train: " + data.string() +
                                        "\n  val: " + data.string() +
                                        "\n  image_size: 32\ntrain:\n  epochs: 1\n  batch_size: 4\n  backend: reference\n"
                                        "  threads: 2\n";  // the reference backend: seconds at 32 px (oneDNN's first step costs more)
  const Result t = run("train " + (root / "r.yaml").string() + " --out " + (root / "run").string() + " --no-report");
  ASSERT_EQ(t.code, 0) << t.output;
  const std::string ckpt = (root / "run/checkpoints/last.safetensors").string();
  for (const std::string& source : {data.string(), (data / "manifest.csv").string()}) {
    fs::remove_all(root / "eval");
    const Result e = run("eval --checkpoint " + ckpt + " --data " + source + " --out " + (root / "eval/metrics.json").string());
    ASSERT_EQ(e.code, 0) << e.output;
    const ManifestSplits back = cxr::read_manifest((root / "eval/predictions.csv").string(), 0.0, 0);
    const size_t expected = source == data.string() ? 12 : 4;  // the manifest's test rows: 2 per class
    EXPECT_EQ(back.train.samples.size(), expected) << source;
    EXPECT_EQ(back.train.classes, classes) << source;
    for (const auto& s : back.train.samples) EXPECT_TRUE(fs::exists(data / s.relative)) << s.relative;
    EXPECT_EQ(nlohmann::json::parse(slurp(root / "eval/metrics.json"))["count"], expected);
  }
}

}  // namespace
