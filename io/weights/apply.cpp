#include "io/weights/apply.h"

#include <cstring>
#include <map>

#include "core/errors.h"

namespace cxr {
namespace {

bool is_head(const std::string& name) { return name.rfind("fc.", 0) == 0; }

}  // namespace

LoadReport apply_state_dict(Network& net, const StateDict& dict, const ApplyOptions& options) {
  LoadReport report;
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : dict.tensors) by_name[t.name] = &t;
  const std::vector<StateEntry> entries = net.state();
  std::vector<std::string> missing, mismatched, unexpected;

  // First pass: decide; nothing is written unless the whole file fits.
  bool head_differs = false;
  for (const StateEntry& e : entries) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) {
      missing.push_back(e.name);
      continue;
    }
    const Shape& want = e.value->shape();
    const Shape& got = it->second->shape;
    const bool fold = e.name == "conv1.weight" && want.size() == 4 && got.size() == 4 && want[1] == 1 &&
                      got[1] == 3 && want[0] == got[0] && want[2] == got[2] && want[3] == got[3];
    if (got != want && !fold) {
      if (is_head(e.name) && options.allow_head_mismatch && got.size() == want.size() && !got.empty() &&
          std::equal(got.begin() + 1, got.end(), want.begin() + 1)) {
        head_differs = true;
        continue;
      }
      mismatched.push_back(e.name + " (expected " + to_string(want) + ", found " + to_string(got) + ")");
    }
  }
  std::map<std::string, bool> known;
  for (const StateEntry& e : entries) known[e.name] = true;
  for (const NamedTensor& t : dict.tensors)
    if (!known.count(t.name)) unexpected.push_back(t.name);
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string msg = options.source + ": weights do not fit " + net.graph().arch;
    // Appends piece by piece: GCC 12 warns falsely (-Wrestrict) on chained string operator+.
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      msg.append("\n  ").append(what).append(" (").append(std::to_string(v.size())).append("):");
      for (size_t i = 0; i < v.size() && i < 20; ++i) msg.append("\n    ").append(v[i]);
      if (v.size() > 20) msg.append("\n    ... and ").append(std::to_string(v.size() - 20)).append(" more");
    };
    list("missing keys", missing);
    list("shape mismatches", mismatched);
    list("unexpected keys", unexpected);
    throw UsageError(msg);
  }

  Backend& backend = net.backend();
  for (const StateEntry& e : entries) {
    const NamedTensor& t = *by_name.at(e.name);
    if (head_differs && is_head(e.name)) continue;
    if (e.value->dtype() == DType::I64) {  // counters: exact when the file has int64
      if (t.dtype == DType::I64) {
        // The shape matched; the bytes must too, or this copy would run past the parameter.
        if (t.bytes.size() != static_cast<size_t>(e.value->numel()) * sizeof(int64_t))
          throw UsageError(options.source + ": " + e.name + " holds " + std::to_string(t.bytes.size()) +
                           " bytes for shape " + to_string(t.shape));
        std::memcpy(e.value->data(), t.bytes.data(), t.bytes.size());
      } else {
        const std::vector<float> v = t.to_f32();
        for (size_t i = 0; i < v.size(); ++i) e.value->data_as<int64_t>()[i] = static_cast<int64_t>(v[i]);
      }
    } else if (t.shape != e.value->shape()) {  // conv1: sum the RGB filters into one channel
      const std::vector<float> rgb = t.to_f32();
      const int64_t out = t.shape[0], hw = t.shape[2] * t.shape[3];
      std::vector<float> grey(static_cast<size_t>(out * hw), 0.0f);
      for (int64_t o = 0; o < out; ++o)
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t k = 0; k < hw; ++k) grey[static_cast<size_t>(o * hw + k)] += rgb[static_cast<size_t>((o * 3 + c) * hw + k)];
      backend.write_plain(*e.value, grey.data());
      report.conv1_folded = true;
      report.notes.push_back("conv1.weight: RGB filters summed over channels for in_channels: 1");
    } else {
      const std::vector<float> v = t.to_f32();
      backend.write_plain(*e.value, v.data());
    }
    ++report.loaded;
  }
  if (head_differs) {
    report.head_replaced = true;
    report.notes.push_back("fc: pretrained head has " + std::to_string(by_name.at("fc.weight")->shape[0]) +
                           " classes, the network " + std::to_string(net.graph().num_classes) +
                           ": fc re-initialised");
  }
  return report;
}

StateDict network_state_dict(Network& net) {
  StateDict dict;
  for (const StateEntry& e : net.state()) {
    if (e.value->dtype() == DType::I64) {
      NamedTensor t;
      t.name = e.name;
      t.dtype = DType::I64;
      t.shape = e.value->shape();
      t.bytes.resize(static_cast<size_t>(e.value->bytes()));
      std::memcpy(t.bytes.data(), e.value->data(), t.bytes.size());
      dict.add(std::move(t));
    } else {
      std::vector<float> v(static_cast<size_t>(e.value->numel()));
      net.backend().read_plain(*e.value, v.data());
      dict.add(NamedTensor::from_f32(e.name, e.value->shape(), v.data()));
    }
  }
  return dict;
}

}  // namespace cxr
