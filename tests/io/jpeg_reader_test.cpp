// The JPEG reader against Pillow (Debian's python3-pil, the same libjpeg-turbo underneath): grey
// and colour, baseline, progressive and with restart markers, odd sizes, at full size and with
// DCT-domain scaling (Pillow's Image.draft); colour → luma as the PNG reader does it; the loader
// passing its working size down as the hint; `cxrtune inspect` on JPEG files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/errors.h"
#include "io/image_reader.h"
#include "io/jpeg_reader.h"
#include "io/loader.h"
#include "io/png_io.h"
#include "io/transforms.h"
#include "tests/io/hostile_files.h"
#include "tests/io/jpeg_files.h"

namespace cxr {
namespace {

using namespace cxr::testing;
namespace fs = std::filesystem;

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Empty when Pillow can be imported, else why not.
const std::string& pil_missing() {
  static const std::string why = [] {
    const std::string py = CXRTUNE_PYTHON;
    if (!fs::exists(py)) return "no " + py;
    if (run(py + " -c 'import PIL' 2>/dev/null") != 0) return py + " has no Pillow (apt-get install python3-pil)";
    return std::string();
  }();
  return why;
}

#define REQUIRE_PIL()                                              \
  if (!pil_missing().empty()) GTEST_SKIP() << "skipped: " << pil_missing()

struct Decoded {
  int width = 0, height = 0;
  std::vector<uint8_t> samples;
};

// Pillow's decode in `mode` ("L" or "RGB"), after Image.draft(mode, (draft_w, draft_h)) when given.
Decoded pil_decode(const std::string& path, const char* mode, int draft_w = 0, int draft_h = 0) {
  const std::string out = path + ".pil";
  std::string cmd = std::string(CXRTUNE_PYTHON) + " " + CXRTUNE_SOURCE_DIR + "/tests/io/pil_decode.py " + path + " " + out +
                    " " + mode;
  if (draft_w) cmd += " " + std::to_string(draft_w) + " " + std::to_string(draft_h);
  EXPECT_EQ(run(cmd), 0) << cmd;
  std::istringstream in(read_bytes(out));
  Decoded d;
  in >> d.width >> d.height;
  in.get();
  const std::string rest(std::istreambuf_iterator<char>(in), {});
  d.samples.assign(rest.begin(), rest.end());
  EXPECT_EQ(d.samples.size(), static_cast<size_t>(d.width) * d.height * (std::string(mode) == "L" ? 1 : 3));
  return d;
}

// ITU-R 601 luma of 8-bit RGB, as png_io.cpp computes it, in grey levels.
std::vector<double> luma(const std::vector<uint8_t>& rgb) {
  std::vector<double> out;
  for (size_t i = 0; i + 2 < rgb.size(); i += 3) out.push_back(0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2]);
  return out;
}

// Largest |ours − reference| in grey levels (ours in [0, 1]).
double max_difference(const Image& ours, const std::vector<double>& reference) {
  EXPECT_EQ(ours.pixels.size(), reference.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(ours.pixels.size(), reference.size()); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(ours.pixels[i]) * 255.0 - reference[i]));
  return worst;
}

std::vector<double> levels(const std::vector<uint8_t>& grey) { return {grey.begin(), grey.end()}; }

struct Variant {
  const char* name;
  JpegOptions options;
};
const Variant kVariants[] = {
    {"baseline", {}},
    {"progressive", {.progressive = true}},
    {"restart", {.restart_interval = 3}},
    {"progressive_restart", {.progressive = true, .restart_interval = 2}},
};
const std::pair<int, int> kSizes[] = {{333, 257}, {1, 1}, {17, 9}, {64, 200}};

TEST(JpegVsPil, GreyAtFullSizeWithinOneLevel) {
  REQUIRE_PIL();
  for (const auto& [w, h] : kSizes)
    for (const Variant& v : kVariants) {
      SCOPED_TRACE(std::string(v.name) + " " + std::to_string(w) + "x" + std::to_string(h));
      const std::string path =
          write_temp(std::string("grey_") + v.name + std::to_string(w) + ".jpg", jpeg_file(w, h, 1, jpeg_test_pattern(w, h, 1, 7), v.options));
      const Image ours = read_jpeg(path);
      const Decoded pil = pil_decode(path, "L");
      ASSERT_EQ(ours.width, pil.width);
      ASSERT_EQ(ours.height, pil.height);
      EXPECT_LE(max_difference(ours, levels(pil.samples)), 1.0);
      EXPECT_EQ(ours.facts.photometric, "MONOCHROME2");
    }
}

TEST(JpegVsPil, ColourAtFullSizeIsLumaOfPilsRgbWithinOneLevel) {
  REQUIRE_PIL();
  for (const auto& [w, h] : kSizes)
    for (const Variant& v : kVariants) {
      SCOPED_TRACE(std::string(v.name) + " " + std::to_string(w) + "x" + std::to_string(h));
      const std::string path =
          write_temp(std::string("rgb_") + v.name + std::to_string(w) + ".jpg", jpeg_file(w, h, 3, jpeg_test_pattern(w, h, 3, 8), v.options));
      const Image ours = read_jpeg(path);
      const Decoded pil = pil_decode(path, "RGB");
      ASSERT_EQ(ours.width, pil.width);
      EXPECT_LE(max_difference(ours, luma(pil.samples)), 1.0);
      EXPECT_EQ(ours.facts.photometric, "YCbCr");
    }
}

// For each reduction, a hint that makes the reader choose it and a draft size that makes Pillow
// choose it too; Pillow's resulting size proves which scale it picked.
TEST(JpegVsPil, DctScaledDecodesMatchPilsDraft) {
  REQUIRE_PIL();
  const int w = 333, h = 257;
  for (const int components : {1, 3})
    for (const Variant& v : {kVariants[0], kVariants[3]}) {
      const std::string path = write_temp("scaled_" + std::to_string(components) + v.name + ".jpg",
                                          jpeg_file(w, h, components, jpeg_test_pattern(w, h, components, 9), v.options));
      // Shorter side 257: 1/2 gives 129, 1/4 gives 65, 1/8 gives 33.
      for (const auto& [hint, reduction] : {std::pair{100, 2}, std::pair{50, 4}, std::pair{30, 8}}) {
        SCOPED_TRACE(std::string(v.name) + " components " + std::to_string(components) + " 1/" + std::to_string(reduction));
        ASSERT_EQ(jpeg_reduction(w, h, hint), reduction);
        const Image ours = read_jpeg(path, {}, DecodeHints{hint});
        EXPECT_EQ(ours.width, (w + reduction - 1) / reduction);
        EXPECT_EQ(ours.height, (h + reduction - 1) / reduction);
        EXPECT_NE(ours.facts.voi.find("DCT-scaled 1/" + std::to_string(reduction)), std::string::npos) << ours.facts.voi;
        const Decoded pil = pil_decode(path, components == 1 ? "L" : "RGB", w / reduction, h / reduction);
        ASSERT_EQ(pil.width, ours.width) << "Pillow picked another scale";
        ASSERT_EQ(pil.height, ours.height);
        EXPECT_LE(max_difference(ours, components == 1 ? levels(pil.samples) : luma(pil.samples)), 1.0);
      }
    }
}

TEST(JpegReduction, LargestThatKeepsTheTargetSide) {
  EXPECT_EQ(jpeg_reduction(2048, 2048, 224), 8);  // 256 >= 224, Pillow's draft scale
  EXPECT_EQ(jpeg_reduction(2500, 1700, 224), 4);  // the shorter side decides: 1700/8 = 213 < 224
  EXPECT_EQ(jpeg_reduction(1024, 1024, 224), 4);
  EXPECT_EQ(jpeg_reduction(893, 1000, 224), 4);   // libjpeg rounds 893/4 up to 224: just enough
  EXPECT_EQ(jpeg_reduction(892, 1000, 224), 2);   // 223 is not
  EXPECT_EQ(jpeg_reduction(447, 1000, 224), 2);   // 447/2 rounds up to 224
  EXPECT_EQ(jpeg_reduction(446, 1000, 224), 1);   // 223: full size
  EXPECT_EQ(jpeg_reduction(2048, 2048, 0), 1);    // no hint: full size
  EXPECT_EQ(jpeg_reduction(2048, 2048, 251), 8);  // the augmented working size: 256 >= 251
  EXPECT_EQ(jpeg_reduction(2048, 2048, 257), 4);
}

// A progressive grey file at 1/8 is read only up to the end of its DC scans: the pixels are
// Pillow's 1/8 draft of the whole file, level for level (both run libjpeg's 1×1 IDCT on the
// complete DC), and the reader still refuses a file cut short anywhere after them.
TEST(JpegDcOnly, ProgressiveEighthEqualsTheWholeFilesAndRefusesTruncation) {
  REQUIRE_PIL();
  const int w = 333, h = 257;
  for (const Variant& v : {kVariants[1], kVariants[3]}) {
    SCOPED_TRACE(v.name);
    const std::string bytes = jpeg_file(w, h, 1, jpeg_test_pattern(w, h, 1, 13), v.options);
    const std::string path = write_temp(std::string("dc_only_") + v.name + ".jpg", bytes);
    ASSERT_EQ(jpeg_reduction(w, h, 30), 8);
    const Image ours = read_jpeg(path, {}, DecodeHints{30});
    EXPECT_NE(ours.facts.voi.find("DC scans only"), std::string::npos) << ours.facts.voi;
    const Decoded pil = pil_decode(path, "L", w / 8, h / 8);
    ASSERT_EQ(pil.width, ours.width);
    EXPECT_LT(max_difference(ours, levels(pil.samples)), 1e-3);
    // Trailing bytes after EOI are not damage.
    EXPECT_NO_THROW(read_jpeg(write_temp("dc_only_tail.jpg", bytes + std::string(50, 'x')), {}, DecodeHints{30}));
    for (const size_t cut : {bytes.size() - 2, bytes.size() - 40, bytes.size() * 3 / 4, bytes.size() / 3}) {
      SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
      EXPECT_THROW(read_jpeg(write_temp("dc_only_cut.jpg", bytes.substr(0, cut)), {}, DecodeHints{30}), UsageError);
    }
  }
}

// Colour JPEG → luma equals the PNG reader's on the same RGB pixels (libjpeg's own RGB decode
// written as an RGB PNG): the same formula, value for value.
TEST(JpegColour, LumaEqualsThePngReadersForTheSameRgb) {
  const int w = 333, h = 257;
  const std::string jpeg = jpeg_file(w, h, 3, jpeg_test_pattern(w, h, 3, 11), {.progressive = true});
  int dw = 0, dh = 0;
  const std::vector<uint8_t> rgb = libjpeg_decode(jpeg, 3, dw, dh);
  std::string raw;
  for (int y = 0; y < h; ++y) {
    raw += '\0';  // filter: none
    raw.append(reinterpret_cast<const char*>(rgb.data()) + static_cast<size_t>(y) * w * 3, static_cast<size_t>(w) * 3);
  }
  const Image from_png = read_png(write_temp("same_rgb.png", png_file(w, h, 8, 2, raw)));
  const Image from_jpeg = read_image(write_temp("same_rgb.jpg", jpeg));
  ASSERT_EQ(from_png.pixels.size(), from_jpeg.pixels.size());
  for (size_t i = 0; i < from_png.pixels.size(); ++i) ASSERT_EQ(from_png.pixels[i], from_jpeg.pixels[i]) << "pixel " << i;
  EXPECT_EQ(from_jpeg.facts.format, "jpeg");
  EXPECT_NE(from_jpeg.facts.voi.find("luma"), std::string::npos);
  EXPECT_NE(from_jpeg.facts.transfer_syntax.find("progressive"), std::string::npos);
}

// The loader reads with its working size as the hint: its tensor is the one made from the
// DCT-scaled decode, which differs from the full decode's.
TEST(JpegLoader, DecodesAtTheReductionItsWorkingSizeAllows) {
  const int w = 600, h = 520;
  const std::string path = write_temp("loader.jpg", jpeg_file(w, h, 1, jpeg_test_pattern(w, h, 1, 12)));
  LoaderConfig c;
  c.batch_size = 1;
  c.transform.size = 64;
  c.transform.channels = 1;
  c.shuffle = false;
  c.drop_last = false;
  Dataset d;
  d.root = fs::path(path).parent_path().string();
  d.classes = {"a"};
  d.samples.push_back(Sample{path, "loader.jpg", 0, {}});
  Loader loader(d, c);
  loader.start_epoch(0, 0);
  HostBatch batch;
  ASSERT_TRUE(loader.next(batch));
  const auto tensor = [&](const DecodeHints& hints) {
    std::vector<float> out(64 * 64);
    std::mt19937_64 rng(0);
    to_tensor(working_image(read_image(path, {}, hints), c.transform), c.transform, rng, out.data());
    return out;
  };
  ASSERT_EQ(jpeg_reduction(w, h, 64), 8);  // 520 / 8 rounds up to 65
  const std::vector<float> hinted = tensor(decode_hints(c.transform)), full = tensor({});
  EXPECT_EQ(std::vector<float>(batch.images, batch.images + 64 * 64), hinted);
  EXPECT_NE(hinted, full);
  // Close to the full decode all the same: the resize does the rest.
  double worst = 0;
  for (size_t i = 0; i < full.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(hinted[i] - full[i])));
  EXPECT_LT(worst * 0.226, 0.05) << "more than 5 % of the grey range away from the full decode";
}

// --- cxrtune inspect on JPEG files -------------------------------------------------------

const std::string kBin = std::string(CXRTUNE_BINARY_DIR) + "/cli/cxrtune";

TEST(JpegInspect, ReportsTheJpegAndRefusesATruncatedOneWithOnlyItsOwnLine) {
  if (!fs::exists(kBin)) GTEST_SKIP() << "skipped: " << kBin << " not built (build the cxrtune target)";
  const std::string jpeg = jpeg_file(333, 257, 3, jpeg_test_pattern(333, 257, 3, 13), {.progressive = true});
  const std::string good = write_temp("inspect_good.jpg", jpeg);
  const std::string out = temp_path("inspect.out"), err = temp_path("inspect.err");
  ASSERT_EQ(run(kBin + " inspect " + good + " >" + out + " 2>" + err), 0) << read_bytes(err);
  const std::string json = read_bytes(out);
  for (const char* want : {"\"format\": \"jpeg\"", "\"width\": 333", "\"height\": 257", "\"bits_stored\": 8",
                           "\"photometric\": \"YCbCr\"", "progressive", "luma"})
    EXPECT_NE(json.find(want), std::string::npos) << want << " not in " << json;

  const std::string cut = write_temp("inspect_cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  EXPECT_EQ(run(kBin + " inspect " + cut + " >" + out + " 2>" + err), 2);
  const std::string stderr_text = read_bytes(err);
  EXPECT_EQ(stderr_text.rfind("cxrtune: error: " + cut + ": ", 0), 0u) << stderr_text;
  EXPECT_EQ(std::count(stderr_text.begin(), stderr_text.end(), '\n'), 1) << stderr_text;
  EXPECT_EQ(read_bytes(out), "");
}

}  // namespace
}  // namespace cxr
