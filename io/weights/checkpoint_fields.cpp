#include "io/weights/checkpoint_fields.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace cxr {
namespace {

using nlohmann::json;

// The value as read, shortened: a corrupt field may be megabytes of garbage.
std::string shown(const std::string& v) { return v.size() > 40 ? "'" + v.substr(0, 40) + "...'" : "'" + v + "'"; }

}  // namespace

CheckpointFields::CheckpointFields(std::string file, const std::map<std::string, std::string>& metadata)
    : file_(std::move(file)), metadata_(metadata) {}

void CheckpointFields::bad(const std::string& key, const std::string& expected) const {
  const auto it = metadata_.find(key);
  if (it == metadata_.end())
    throw UsageError(file_ + ": checkpoint field '" + key + "' is missing (a damaged checkpoint, or not one cxrtune wrote)");
  throw UsageError(file_ + ": checkpoint field '" + key + "' is " + shown(it->second) + ", not " + expected +
                   " (a damaged checkpoint)");
}

bool CheckpointFields::has(const std::string& key) const { return metadata_.count(key) != 0; }

const std::string& CheckpointFields::text(const std::string& key) const {
  const auto it = metadata_.find(key);
  if (it == metadata_.end()) bad(key, "");
  return it->second;
}

int64_t CheckpointFields::integer(const std::string& key) const {
  const std::string& v = text(key);
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE) bad(key, "an integer");
  return x;
}

double CheckpointFields::real(const std::string& key) const {
  const std::string& v = text(key);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size()) bad(key, "a number");
  return x;
}

std::vector<std::string> CheckpointFields::strings(const std::string& key) const {
  const json j = json::parse(text(key), nullptr, false);
  if (!j.is_array()) bad(key, "a JSON array of strings");
  std::vector<std::string> out;
  for (const json& e : j) {
    if (!e.is_string()) bad(key, "a JSON array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> CheckpointFields::reals(const std::string& key) const {
  const json j = json::parse(text(key), nullptr, false);
  if (!j.is_array()) bad(key, "a JSON array of numbers");
  std::vector<double> out;
  for (const json& e : j) {
    if (!e.is_number()) bad(key, "a JSON array of numbers");
    out.push_back(e.get<double>());
  }
  return out;
}

std::map<std::string, double> CheckpointFields::real_map(const std::string& key) const {
  const json j = json::parse(text(key), nullptr, false);
  if (!j.is_object()) bad(key, "a JSON object of numbers");
  std::map<std::string, double> out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_null()) out[k] = std::numeric_limits<double>::quiet_NaN();
    else if (v.is_number()) out[k] = v.get<double>();
    else bad(key, "a JSON object of numbers");
  }
  return out;
}

}  // namespace cxr
