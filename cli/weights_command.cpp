// `cxrtune weights info FILE [--json]` and `cxrtune weights convert FILE [-o OUT.safetensors]`.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/errors.h"
#include "io/weights/safetensors.h"
#include "io/weights/weights_file.h"

namespace cxr::cli {

void add_weights_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("weights", "inspect or convert torchvision .pth / .safetensors files");
  cmd->require_subcommand(1);

  auto info_file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* info = cmd->add_subcommand("info", "keys, shapes, dtypes, parameter count, architecture guess");
  info->add_option("FILE", *info_file, "weights file")->required();
  info->add_flag("--json", *json, "one JSON object");
  info->callback([info_file, json] {
    const StateDict d = read_weights(*info_file);
    int64_t params = 0;
    std::map<std::string, int64_t> by_dtype;
    nlohmann::json tensors = nlohmann::json::array();
    for (const NamedTensor& t : d.tensors) {
      if (t.name.find("running_") == std::string::npos && t.name.find("num_batches") == std::string::npos)
        params += t.numel();
      by_dtype[to_string(t.dtype)] += 1;
      tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"dtype", to_string(t.dtype)}});
    }
    const std::string arch = guess_arch(d);
    if (*json) {
      std::printf("%s\n", nlohmann::json({{"file", *info_file}, {"arch", arch}, {"tensors", tensors.size()},
                                          {"parameters", params}, {"dtypes", by_dtype}, {"entries", tensors}})
                              .dump()
                              .c_str());
      return;
    }
    for (const NamedTensor& t : d.tensors)
      std::printf("%-44s %-18s %s\n", t.name.c_str(), to_string(t.shape).c_str(), to_string(t.dtype).c_str());
    std::printf("\n%zu tensors, %lld parameters, architecture: %s\n", d.tensors.size(),
                static_cast<long long>(params), arch.c_str());
  });

  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto* convert = cmd->add_subcommand("convert", "write any weights file as .safetensors");
  convert->add_option("FILE", *in, "weights file (.pth or .safetensors)")->required();
  convert->add_option("-o,--output", *out,
                      "output .safetensors (default: beside FILE as NAME.safetensors, never over an existing file)");
  convert->callback([in, out] {
    std::string target = *out;
    if (target.empty()) {
      // Only a name the user chose may be overwritten: the default could be a file they keep.
      target = std::filesystem::path(*in).replace_extension(".safetensors").string();
      if (std::filesystem::exists(target))
        throw UsageError(target + " already exists and is not overwritten without -o (give -o OUT.safetensors)");
    }
    StateDict d = read_weights(*in);
    d.metadata["source"] = std::filesystem::path(*in).filename().string();
    d.metadata["arch"] = guess_arch(d);
    write_safetensors(target, d);
    std::printf("wrote %s (%zu tensors)\n", target.c_str(), d.tensors.size());
  });
}

}  // namespace cxr::cli
