// `cxrtune inspect FILE [--png OUT.png]`: the decoded image's non-identifying facts as JSON;
// --png writes the 8-bit display image at the file's own size (docs/cli.md, docs/images.md). DICOM, PNG and JPEG
// alike, told apart by content (image_sniff.h): for a JPEG, transfer_syntax names the process
// (sequential or progressive, Huffman or arithmetic), photometric the colour space as stored,
// and voi what the reader did (colour converted to luma).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "io/image_reader.h"
#include "io/png_io.h"

namespace cxr::cli {

void add_inspect_command(CLI::App& app) {
  auto file = std::make_shared<std::string>(), png = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("inspect", "decoded image facts as JSON (no patient identifiers)");
  cmd->add_option("FILE", *file, "DICOM, PNG or JPEG file")->required();
  cmd->add_option("--png", *png, "write the 8-bit display image here");
  cmd->callback([file, png] {
    const Image img = read_image(*file);
    double lo = 1, hi = 0, sum = 0;
    for (float v : img.pixels) lo = std::min(lo, static_cast<double>(v)), hi = std::max(hi, static_cast<double>(v)), sum += v;
    const ImageFacts& f = img.facts;
    const nlohmann::json j = {{"format", f.format},       {"decoder", f.decoder},
                              {"width", img.width},
                              {"height", img.height},     {"modality", f.modality},
                              {"photometric", f.photometric}, {"transfer_syntax", f.transfer_syntax},
                              {"bits_stored", f.bits_stored}, {"signed", f.is_signed},
                              {"rescale_slope", f.rescale_slope}, {"rescale_intercept", f.rescale_intercept},
                              {"voi", f.voi},
                              {"display", {{"min", lo}, {"max", hi}, {"mean", sum / static_cast<double>(img.pixels.size())}}}};
    std::printf("%s\n", j.dump(2).c_str());
    if (!png->empty()) write_png(*png, img, 8);
  });
}

}  // namespace cxr::cli
