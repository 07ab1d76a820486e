#include "reports/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/errors.h"

namespace cxr::report {

void write_text_atomic(const std::string& path, std::string_view text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path() && !fs::is_directory(target.parent_path()))
    throw UsageError("report: cannot write " + path + ": directory " + target.parent_path().string() + " does not exist");
  const fs::path tmp = target.string() + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      const std::string why = std::strerror(errno);
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw RuntimeFailure("report: cannot write " + path + ": " + why);
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw RuntimeFailure("report: cannot write " + path + ": " + ec.message());
  }
}

}  // namespace cxr::report
