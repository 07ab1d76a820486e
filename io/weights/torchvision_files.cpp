#include "io/weights/torchvision_files.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/errors.h"
#include "io/weights/sha256.h"

namespace cxr {

std::vector<std::string> torchvision_file_names(const std::string& arch) {
  static const std::map<std::string, std::vector<std::string>> names{
      {"resnet18", {"resnet18-f37072fd.pth"}},
      {"resnet34", {"resnet34-b627a593.pth"}},
      {"resnet50", {"resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth"}},
      {"resnet101", {"resnet101-63fe2227.pth", "resnet101-cd907fc2.pth"}}};
  auto it = names.find(arch);
  return it == names.end() ? std::vector<std::string>{} : it->second;
}

std::string find_torchvision_weights(const std::string& arch) {
  namespace fs = std::filesystem;
  std::vector<fs::path> folders;
  if (const char* th = std::getenv("TORCH_HOME")) folders.push_back(fs::path(th) / "hub" / "checkpoints");
  if (const char* home = std::getenv("HOME")) folders.push_back(fs::path(home) / ".cache" / "torch" / "hub" / "checkpoints");
  const auto files = torchvision_file_names(arch);
  if (files.empty()) throw UsageError("weights: torchvision has no ImageNet file cxrtune knows for '" + arch + "'");
  for (const fs::path& dir : folders)
    for (const std::string& name : files) {
      const fs::path p = dir / name;
      if (!fs::exists(p)) continue;
      // torchvision names carry the first 8 hex digits of the file's SHA-256.
      const std::string want = name.substr(name.rfind('-') + 1, 8);
      const std::string got = sha256_file(p.string());
      if (got.compare(0, want.size(), want) != 0)
        throw UsageError(p.string() + ": SHA-256 starts with " + got.substr(0, 8) + ", the name says " + want +
                         " (a partial or altered download?)");
      return p.string();
    }
  std::string msg = "weights: torchvision: no ImageNet weights for " + arch + " found. cxrtune never downloads; put ";
  for (size_t i = 0; i < files.size(); ++i) msg += (i ? " or " : "") + files[i];
  msg += " into ";
  for (size_t i = 0; i < folders.size(); ++i) msg += (i ? " or " : "") + folders[i].string();
  msg += " (torchvision downloads them there), or give the file's path in model.weights";
  throw UsageError(msg);
}

}  // namespace cxr
