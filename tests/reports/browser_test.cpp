// The page as a browser renders it: fresh vs pretrained side by side in headless Chromium, a
// screenshot written (kept as CXR_REPORT_SHOT when that variable is set) and no console
// message. Skipped with a message when /usr/bin/chromium is absent.
#include <gtest/gtest.h>

#include <cstdlib>

#include "reports/report.h"
#include "tests/reports/fixture_run.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;

TEST(ReportInBrowser, RendersWithoutConsoleMessages) {
  const char* chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium)) GTEST_SKIP() << "chromium is not installed (apt-get install chromium): page not rendered";
  const fs::path a = test::make_run({.name = "pretrained", .steps = 600, .steps_per_epoch = 60, .spike_step = 400});
  const fs::path b = test::make_run({.name = "fresh", .steps = 600, .steps_per_epoch = 60, .pretrained = false, .seed = 7});
  const fs::path root = a.parent_path();
  const fs::path out = root / "side_by_side.html";
  const char* keep = std::getenv("CXR_REPORT_SHOT");
  const fs::path png = keep ? fs::path(keep) : root / "shot.png";
  write_report({a.string(), b.string()}, out.string());
  const fs::path log = root / "chromium.log";
  const std::string cmd = std::string(chromium) +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update --disable-sync"
                          " --enable-logging=stderr --v=0 --user-data-dir=" + (root / "profile").string() +
                          " --window-size=1400,5200 --screenshot=" + png.string() + " file://" + out.string() + " > " +
                          log.string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << test::slurp(log);
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 100000u);  // a rendered page, not a blank one
  const std::string text = test::slurp(log);
  EXPECT_EQ(text.find("CONSOLE"), std::string::npos) << text;
  EXPECT_EQ(text.find("Uncaught"), std::string::npos) << text;
  EXPECT_EQ(text.find("ERR_FILE_NOT_FOUND"), std::string::npos) << text;  // nothing external requested
}

}  // namespace
}  // namespace cxr
