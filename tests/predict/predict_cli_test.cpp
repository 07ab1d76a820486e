// `cxrtune predict` through its command line: rows in input order with paths relative to each
// INPUT, folders read by content, CSV manifests, bad files exit 2 naming the file (and leave no
// CSV), --on-bad-file skip, colliding names refused, and 1,000 inputs streamed in the memory of
// 100 (peak RSS of the process, from wait4); the time summary adds up.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <regex>

#include "predict_fixtures.h"

namespace cxr::test {
namespace {

class PredictCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("cli");
    CheckpointSpec spec;
    spec.image_size = 32;
    spec.batch = 8;
    write_test_checkpoint(dir_ / "model.safetensors", spec);
  }
  static std::string ckpt() { return "--checkpoint " + (dir_ / "model.safetensors").string(); }
  static fs::path dir_;
};
fs::path PredictCli::dir_;

TEST_F(PredictCli, RowsFollowTheInputOrder) {
  const fs::path d = dir_ / "order";
  for (const char* n : {"c.png", "a.png", "b.png", "sub/z.png", "sub/y.png"}) write_test_png(d / n, 32, std::hash<std::string>{}(n));
  std::ofstream(d / "list.csv") << "path,label\nsub/z.png,x\nc.png,y\n";
  const std::string out = (d / "p.csv").string();
  const CliResult r = run_cxrtune("predict " + ckpt() + " " + (d / "c.png").string() + " " + (d / "a.png").string() + " " +
                                  (d / "sub").string() + " " + (d / "list.csv").string() + " --out " + out + " --batch 2");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto rows = read_csv_file(out);
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"path", "NORMAL", "PNEUMONIA", "predicted"}));
  // Files as given (made relative), the folder's files relative to it and sorted, then the
  // manifest's rows in its order with the path column as written.
  const std::vector<std::string> want{fs::path(d / "c.png").relative_path().string(),
                                      fs::path(d / "a.png").relative_path().string(), "y.png", "z.png", "sub/z.png", "c.png"};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(rows[i + 1][0], want[i]);
  // The same file scored twice under two names gives the same probabilities.
  EXPECT_EQ(rows[4][1], rows[5][1]);
  EXPECT_EQ(rows[1][1], rows[6][1]);
  // Two folders of the same layout would write over each other's Grad-CAM files.
  fs::create_directories(d / "sub2");
  fs::copy_file(d / "sub/z.png", d / "sub2/z.png", fs::copy_options::overwrite_existing);
  const CliResult clash = run_cxrtune("predict " + ckpt() + " " + (d / "sub").string() + " " + (d / "sub2").string() + " --out " + out);
  EXPECT_EQ(clash.code, 2) << clash.output;
  EXPECT_NE(clash.output.find("both named 'z.png'"), std::string::npos) << clash.output;
}

// The summary says where the time went (setup, waiting for decoded images, network, Grad-CAM's
// compute and files), and its parts add up to no more than the whole run.
TEST_F(PredictCli, TheTimeLineAccountsForTheRun) {
  const fs::path d = dir_ / "timing";
  for (int i = 0; i < 6; ++i) write_test_png(d / ("t" + std::to_string(i) + ".png"), 32, 100 + static_cast<uint64_t>(i));
  const CliResult r = run_cxrtune("predict " + ckpt() + " " + d.string() + " --out " + (d / "p.csv").string() +
                                  " --batch 2 --cam " + (d / "cams").string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(\((\d+) images, ([0-9.]+) img/s)"))) << r.output;
  ASSERT_EQ(m[1].str(), "6");
  const double total = 6 / std::stod(m[2].str());
  ASSERT_TRUE(std::regex_search(r.output, m,
                                std::regex(R"(time: ([0-9.]+) s setup .*, ([0-9.]+) s waiting .*, ([0-9.]+) s network )"
                                           R"(\(first batch ([0-9.]+) s; later batches ([0-9.]+) img/s; median batch ([0-9.]+) img/s\))")))
      << r.output;
  const double setup = std::stod(m[1].str()), wait = std::stod(m[2].str()), network = std::stod(m[3].str());
  const double first = std::stod(m[4].str());
  EXPECT_GT(network, 0);
  EXPECT_LE(first, network + 0.005);
  EXPECT_GT(std::stod(m[5].str()), 0);  // two later batches
  EXPECT_GT(std::stod(m[6].str()), 0);  // three full batches
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(grad-cam: .* \(([0-9.]+) s of the run: ([0-9.]+) s backward)")))
      << r.output;
  const double cam = std::stod(m[1].str()), cam_compute = std::stod(m[2].str());
  EXPECT_LE(cam_compute, cam + 0.005);
  // Printed rounded (img/s to 0.1, seconds to 0.01): allow for it.
  EXPECT_LE(setup + wait + network + cam, total * 1.05 + 0.03) << r.output;
}

TEST_F(PredictCli, FoldersAreReadByContent) {
  const fs::path d = dir_ / "content";
  write_test_png(d / "UID.1.2.3", 32, 1);       // no extension
  write_test_png(d / "fake.jpg", 32, 2);        // a PNG named .jpg
  std::ofstream(d / "README.txt") << "not an image\n";
  write_test_png(d / ".hidden.png", 32, 3);
  const std::string out = (d / "p.csv").string();
  const CliResult r = run_cxrtune("predict " + ckpt() + " " + d.string() + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto rows = read_csv_file(out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "UID.1.2.3");
  EXPECT_EQ(rows[2][0], "fake.jpg");
  EXPECT_NE(r.output.find("left out 2 files"), std::string::npos) << r.output;
}

TEST_F(PredictCli, BadInputsExit2NamingTheFile) {
  const fs::path d = dir_ / "bad";
  write_test_png(d / "good.png", 32, 4);
  {
    std::ofstream broken(d / "broken.png", std::ios::binary);
    broken << "\x89PNG\r\n\x1a\n" << std::string(40, '\x07');
  }
  std::ofstream(d / "notes.txt") << "hello\n";
  const std::string out = (d / "p.csv").string();
  for (const char* bad : {"broken.png", "notes.txt", "missing.png"}) {
    const CliResult r = run_cxrtune("predict " + ckpt() + " " + (d / "good.png").string() + " " + (d / bad).string() + " --out " + out);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find(bad), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out)) << "a failed run leaves no CSV";
  }
  const CliResult skip = run_cxrtune("predict " + ckpt() + " " + (d / "good.png").string() + " " + (d / "broken.png").string() +
                                     " --on-bad-file skip --out " + out);
  ASSERT_EQ(skip.code, 0) << skip.output;
  EXPECT_NE(skip.output.find("broken.png"), std::string::npos) << skip.output;
  EXPECT_EQ(read_csv_file(out).size(), 2u);
  EXPECT_EQ(run_cxrtune("predict " + ckpt() + " " + (d / "good.png").string() + " --threshold 0.4 --out " + out).code, 2)
      << "--threshold is for multi-label checkpoints";
  EXPECT_EQ(run_cxrtune("predict " + ckpt() + " " + (d / "good.png").string() + " --cam-class Nope --cam " + (d / "c").string()).code, 2);
  EXPECT_EQ(run_cxrtune("predict --checkpoint " + d.string() + " " + (d / "good.png").string()).code, 2)
      << "a folder without checkpoints/best.safetensors";
}

// Peak RSS (KiB) of `cxrtune args`, its exit status in `code`.
long peak_rss_kib(const std::string& args, int& code) {
  const std::string bin = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", (bin + " " + args + " > /dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return usage.ru_maxrss;
}

TEST_F(PredictCli, ThousandInputsStreamInBoundedMemory) {
  const fs::path small = dir_ / "small", large = dir_ / "large";
  fs::create_directories(small);
  for (int i = 0; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d.png", i);
    write_test_png(large / name, 32, static_cast<uint64_t>(i));
    if (i < 100) fs::copy_file(large / name, small / name, fs::copy_options::overwrite_existing);
  }
  int code = 0;
  const long rss_small = peak_rss_kib("predict " + ckpt() + " " + small.string() + " --cam " + (dir_ / "cs").string() +
                                          " --out " + (dir_ / "s.csv").string(), code);
  ASSERT_EQ(code, 0);
  const long rss_large = peak_rss_kib("predict " + ckpt() + " " + large.string() + " --cam " + (dir_ / "cl").string() +
                                          " --out " + (dir_ / "l.csv").string(), code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(read_csv_file(dir_ / "l.csv").size(), 1001u);
  EXPECT_TRUE(fs::exists(dir_ / "cl" / "0999.png.cam.npy"));
  std::printf("peak RSS: 100 inputs %.1f MiB, 1000 inputs %.1f MiB\n", rss_small / 1024.0, rss_large / 1024.0);
  // Ten times the inputs: the list of names grows (a few hundred bytes each), nothing else.
  EXPECT_LT(rss_large - rss_small, 8 * 1024) << "memory grows with the number of inputs";
}

}  // namespace
}  // namespace cxr::test
