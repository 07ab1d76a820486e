#include "reports/metrics_line.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace cxr::report {
namespace {

using json = nlohmann::json;

class FlatSax : public nlohmann::json_sax<json> {
 public:
  explicit FlatSax(FlatRecord& out) : out_(out) {}

  bool null() override { return value(std::numeric_limits<double>::quiet_NaN()); }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return value(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override {
    if (depth_ == 1 && in_array_ == 0 && key_ == "kind") out_.kind = v;
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (depth_ == 0 && in_array_ == 0) top_object_ = true;
    else if (depth_ == 1 && in_array_ == 0) out_.maps.emplace_back(key_, FlatRecord::Numbers{});
    else out_.nested = true;
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    else if (depth_ == 2) map_key_ = k;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    out_.nested = true;
    ++in_array_;
    return true;
  }
  bool end_array() override {
    --in_array_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

  bool top_object() const { return top_object_; }

 private:
  bool value(double v) {
    if (in_array_ > 0) return true;
    if (depth_ == 1) out_.scalars.emplace_back(key_, v);
    else if (depth_ == 2) out_.maps.back().second.emplace_back(map_key_, v);
    return true;
  }

  FlatRecord& out_;
  int depth_ = 0, in_array_ = 0;
  bool top_object_ = false;
  std::string key_, map_key_;
};

}  // namespace

const double* FlatRecord::scalar(const std::string& key) const {
  for (const auto& [k, v] : scalars)
    if (k == key) return &v;
  return nullptr;
}

const FlatRecord::Numbers* FlatRecord::map(const std::string& key) const {
  for (const auto& [k, v] : maps)
    if (k == key) return &v;
  return nullptr;
}

bool parse_flat(const std::string& line, FlatRecord& out) {
  out.kind.clear();
  out.scalars.clear();
  out.maps.clear();
  out.nested = false;
  FlatSax sax(out);
  const bool ok = json::sax_parse(line, &sax, json::input_format_t::json, true);
  return ok && sax.top_object();
}

}  // namespace cxr::report
