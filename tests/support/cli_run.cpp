#include "tests/support/cli_run.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cxr::test {

const std::string& cxrtune_binary() {
  static const std::string bin = std::getenv("CXRTUNE_TEST_BINARY") ? std::getenv("CXRTUNE_TEST_BINARY")
                                                                    : std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";
  return bin;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result run_cxrtune(const std::string& args, const std::filesystem::path& log, const std::string& prefix) {
  const std::string cmd = prefix + " " + cxrtune_binary() + " " + args + " > " + log.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  int code = -1;
  if (WIFEXITED(status)) code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) code = 128 + WTERMSIG(status);
  return {code, slurp(log)};
}

}  // namespace cxr::test
