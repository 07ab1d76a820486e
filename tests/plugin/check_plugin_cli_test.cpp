// `cxrtune check-plugin` end to end: exit 0 and a "pass" table for the GELU example, exit 1
// naming the op and the failing tensor for the deliberately wrong plugins, exit 2 for a library
// that cannot be loaded or an --op the plugin does not register, and --json that parses.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace {

const std::string kCli = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";
const std::string kGelu = std::string(CXRTUNE_BINARY_DIR) + "/plugins/libcxrtune_gelu.so";
const std::string kWrongBackward = std::string(CXRTUNE_BINARY_DIR) + "/tests/plugin/libcxrtune_test_wrong_backward.so";
const std::string kWrongOnednn = std::string(CXRTUNE_BINARY_DIR) + "/tests/plugin/libcxrtune_test_wrong_onednn.so";

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr
};

Result run(const std::string& args) {
  Result r;
  FILE* p = popen((kCli + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CheckPluginCli, GeluPasses) {
  const Result r = run("check-plugin " + kGelu);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("gradcheck  gelu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pass"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
}

TEST(CheckPluginCli, WrongBackwardIsExitOneNamingOpAndTensor) {
  const Result r = run("check-plugin " + kWrongBackward);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("square d input 0: relative error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gradcheck square/reference"), std::string::npos) << r.out;
}

TEST(CheckPluginCli, WrongOnednnForwardIsExitOneNamingOpAndOutput) {
#ifndef CXRTUNE_HAVE_ONEDNN
  GTEST_SKIP() << "built without oneDNN";
#else
  const Result r = run("check-plugin " + kWrongOnednn);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("parity softsign/onednn/f32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("softsign train plain output: relative error"), std::string::npos) << r.out;
#endif
}

TEST(CheckPluginCli, BadInputIsExitTwo) {
  EXPECT_EQ(run("check-plugin /nonexistent/libnothing.so").code, 2);
  const Result r = run("check-plugin " + kGelu + " --op relu");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("registers only gelu"), std::string::npos) << r.out;
}

TEST(CheckPluginCli, JsonListsEveryCheck) {
  const Result r = run("check-plugin " + kGelu + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.at("passed").get<bool>());
  ASSERT_FALSE(j.at("checks").empty());
  EXPECT_EQ(j.at("checks")[0].at("check"), "gradcheck");
  EXPECT_EQ(j.at("checks")[0].at("result"), "pass");
  EXPECT_LT(j.at("checks")[0].at("worst_error").get<double>(), 1e-2);
}

}  // namespace
