#include "reports/figures_gallery.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "reports/html.h"

namespace cxr::report {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxSide = 256;
constexpr std::uintmax_t kMaxPngBytes = 1 << 20;

std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       (i + 1 < bytes.size() ? static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 : 0) |
                       (i + 2 < bytes.size() ? static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2])) : 0);
    out += k[n >> 18 & 63];
    out += k[n >> 12 & 63];
    out += i + 1 < bytes.size() ? k[n >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? k[n & 63] : '=';
  }
  return out;
}

uint32_t be32(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 24 | static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8 | static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

struct Png {
  std::string bytes;
  int64_t width = 0, height = 0;
};

// The overlay PNG named by gallery.json, held to what the gallery writes.
Png read_overlay(const fs::path& dir, const std::string& name) {
  const bool plain = !name.empty() && name.size() < 64 && name.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == std::string::npos &&
      name.ends_with(".png") && name[0] != '.';
  const fs::path file = dir / name;
  if (!plain) throw UsageError(file.string() + ": gallery image names must be plain .png file names in gallery/");
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size > kMaxPngBytes) throw UsageError(file.string() + ": missing, or larger than 1 MiB");
  std::ifstream in(file, std::ios::binary);
  Png png;
  png.bytes.assign(std::istreambuf_iterator<char>(in), {});
  // Signature, then IHDR (length 13, type, width, height) as every PNG begins.
  if (png.bytes.size() < 24 || png.bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || png.bytes.compare(12, 4, "IHDR") != 0)
    throw UsageError(file.string() + ": not a PNG");
  png.width = be32(png.bytes, 16);
  png.height = be32(png.bytes, 20);
  if (png.width < 1 || png.height < 1 || png.width > kMaxSide || png.height > kMaxSide)
    throw UsageError(file.string() + ": " + std::to_string(png.width) + " × " + std::to_string(png.height) +
                     " pixels; gallery images are at most 256 × 256");
  return png;
}

const char* kind_title(const std::string& kind) {
  if (kind == "false_positive") return "Most confident false positives";
  if (kind == "false_negative") return "Most confident false negatives";
  return "Most confident true positives";
}

}  // namespace

std::string gallery_figures(const std::string& run_dir, bool images) {
  const fs::path dir = fs::path(run_dir) / "gallery";
  const fs::path file = dir / "gallery.json";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return "";
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  try {
    const auto j = nlohmann::json::parse(text.str());
    const bool included = images && j.at("images").get<bool>();
    std::string out = "<p class='note'>Validation images scored with the best checkpoint";
    if (j.contains("epoch") && j["epoch"].is_number_integer()) out += " (epoch " + std::to_string(j["epoch"].get<int64_t>()) + ")";
    out += ", the most confident mistakes and hits, " + std::to_string(j.at("per_kind").get<int64_t>()) +
           " of each at most. Grad-CAM (Selvaraju et al. 2017) on layer4 for the class named: bright is where the "
           "class's logit grew most, each map scaled to its own maximum (viridis, legend at the right).</p>";
    out += included ? "<p class='note'><strong>Images included.</strong> These are pixels of validation images; pixel "
                      "data can carry burned-in patient text (names, dates, IDs). Share this page as you would the images "
                      "(cxrtune report --no-images, or report.images: false in the recipe, leaves them out).</p>"
                    : "<p class='note'><strong>Images not included</strong> (" +
                          std::string(images ? "report.images: false in the recipe" : "report --no-images") +
                          "): pixel data can carry burned-in patient text, so only the list is shown.</p>";
    std::string last_kind;
    html::Table list{{"kind", "class", "probability", "path"}, {}, false, "gallery (gallery/gallery.json)", "text"};
    std::string grid;
    for (const auto& item : j.at("items")) {
      const std::string kind = item.at("kind").get<std::string>(), cls = item.at("class").get<std::string>();
      const std::string path = item.at("path").get<std::string>();
      const double p = item.at("probability").get<double>();
      list.rows.push_back({kind, cls, html::num("%.4f", p), path});
      if (!included) continue;
      if (kind != last_kind) {
        grid += std::string(last_kind.empty() ? "" : "</div>") + "<h4>" + kind_title(kind) +
                "</h4><div style='display:flex;flex-wrap:wrap;gap:8px'>";
        last_kind = kind;
      }
      const auto& image = item.at("image");
      if (image.is_null()) continue;
      const Png png = read_overlay(dir, image.get<std::string>());
      grid += "<figure style='margin:0;width:" + std::to_string(png.width) + "px'><img alt='" + html::escape(kind + " " + cls) +
              "' width='" + std::to_string(png.width) + "' height='" + std::to_string(png.height) + "' src='data:image/png;base64," +
              base64(png.bytes) + "'><figcaption style='font-size:11px;overflow-wrap:anywhere'>" + html::escape(cls) + " p = " +
              html::num("%.3f", p) + "<br>" + html::escape(path) + "</figcaption></figure>";
    }
    if (!last_kind.empty()) grid += "</div>";
    if (list.rows.empty()) return out + "<p class='note'>No validation image fell into any of the three groups.</p>";
    return out + grid + html::details("The images as a list", html::table(list));
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(file.string() + ": not a gallery.json (" + e.what() + ")");
  }
}

}  // namespace cxr::report
