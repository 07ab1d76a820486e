// Typed reads of a checkpoint's __metadata__ (all strings in the file): every accessor names the
// file and the field when the field is missing or is not of its type, as a UsageError (exit 2):
// a corrupt or hand-edited checkpoint is the user's input, not an internal failure.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cxr {

class CheckpointFields {
 public:
  CheckpointFields(std::string file, const std::map<std::string, std::string>& metadata);

  bool has(const std::string& key) const;
  const std::string& text(const std::string& key) const;
  int64_t integer(const std::string& key) const;  // decimal, the whole string
  double real(const std::string& key) const;      // strtod syntax (nan/inf accepted), the whole string
  std::vector<std::string> strings(const std::string& key) const;    // JSON array of strings
  std::vector<double> reals(const std::string& key) const;           // JSON array of numbers
  std::map<std::string, double> real_map(const std::string& key) const;  // JSON object; null = NaN

 private:
  [[noreturn]] void bad(const std::string& key, const std::string& expected) const;
  std::string file_;
  const std::map<std::string, std::string>& metadata_;
};

}  // namespace cxr
