// Running the built cxrtune from a test: the binary (CXRTUNE_TEST_BINARY, to run a test against
// another build, or BUILD/cli/cxrtune), a command with its stdout and stderr captured in one log,
// and reading a file whole. Shared by the command-line tests.
#pragma once
#include <filesystem>
#include <string>

namespace cxr::test {

struct Result {
  int code;  // exit status; 128 + signal when killed by one
  std::string output;
};

const std::string& cxrtune_binary();

// The file's bytes; empty when it cannot be read.
std::string slurp(const std::filesystem::path& path);

// `prefix` runs in the same shell first ("ulimit -v 2000000;", "env VAR=1"); stdout and stderr
// go to `log`, which is read back into Result::output.
Result run_cxrtune(const std::string& args, const std::filesystem::path& log, const std::string& prefix = "");

}  // namespace cxr::test
