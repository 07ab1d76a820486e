// SHA-256 (FIPS 180-4), for checking the hash prefix torchvision puts in weight file names.
#pragma once
#include <string>

namespace cxr {

// Lower-case hex digest of a file's contents; UsageError when it cannot be read.
std::string sha256_file(const std::string& path);
std::string sha256_hex(const std::string& data);

}  // namespace cxr
