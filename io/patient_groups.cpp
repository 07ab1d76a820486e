#include "io/patient_groups.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "io/weights/sha256.h"

namespace cxr {

std::set<std::string> held_out_groups(std::vector<std::string> groups, double fraction, uint64_t seed) {
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  std::mt19937_64 rng(seed ^ 0x9a71e47ull);  // the manifest's constant: old splits stay as they were
  std::shuffle(groups.begin(), groups.end(), rng);
  const auto held = static_cast<size_t>(std::llround(fraction * static_cast<double>(groups.size())));
  return std::set<std::string>(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(std::min(held, groups.size())));
}

std::string dataset_salt(const std::string& root) {
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::weakly_canonical(std::filesystem::absolute(root, ec), ec);
  return sha256_hex("cxrtune patient key v1\n" + (ec ? root : real.string()));
}

std::string patient_key(const std::string& salt, const std::string& id) {
  if (id.empty()) return "";
  return sha256_hex(salt + std::string(1, '\0') + id).substr(0, 16);
}

}  // namespace cxr
