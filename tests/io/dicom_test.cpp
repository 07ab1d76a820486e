// DICOM reading against DCMTK's own command-line renderers on the real files Debian's
// python3-pydicom ships: CR MONOCHROME1 with rescale and window, MR in explicit/implicit/big-
// endian/RLE/JPEG-LS, 12-bit JPEG extended, CT, deflated. cxrtune's display image, quantised to
// 8 bits, is within 2 grey levels of dcmj2pnm/dcml2pnm's (+on, first window or min–max). Colour,
// multi-frame, non-image, truncated and garbage files are refused naming the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "io/dicom_reader.h"
#include "io/image_reader.h"
#include "io/png_io.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
const fs::path kFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

class PydicomFiles : public ::testing::TestWithParam<std::string> {};

TEST_P(PydicomFiles, MatchesDcmtkRendering) {
  const fs::path file = kFiles / GetParam();
  if (!fs::exists(file)) GTEST_SKIP() << file << " absent (apt-get install python3-pydicom)";
  if (std::system("command -v dcmj2pnm > /dev/null") != 0) GTEST_SKIP() << "dcmj2pnm absent (apt-get install dcmtk)";
  const Image ours = read_dicom(file.string());
  const std::string voi = ours.facts.voi.rfind("window", 0) == 0 ? "+Wi 1" : ours.facts.voi == "voi lut" ? "+Wl 1" : "+Wm";
  const fs::path png = fs::temp_directory_path() / ("cxr_dcm_" + std::to_string(getpid()) + ".png");
  const std::string tool = ours.facts.transfer_syntax.find("JPEG-LS") != std::string::npos ? "dcml2pnm" : "dcmj2pnm";
  const std::string cmd = tool + " +on " + voi + " " + file.string() + " " + png.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Image theirs = read_png(png.string());
  fs::remove(png);
  ASSERT_EQ(ours.width, theirs.width);
  ASSERT_EQ(ours.height, theirs.height);
  double worst = 0;
  for (size_t i = 0; i < ours.pixels.size(); ++i)
    worst = std::max(worst, std::abs(std::round(ours.pixels[i] * 255.0) - std::round(theirs.pixels[i] * 255.0)));
  EXPECT_LE(worst, 2.0) << GetParam() << " (" << ours.facts.transfer_syntax << ", " << ours.facts.voi << ")";
  std::printf("[%s] %s, %s, %s: max difference %.0f grey levels\n", GetParam().c_str(), ours.facts.photometric.c_str(),
              ours.facts.transfer_syntax.c_str(), ours.facts.voi.c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(Debian, PydicomFiles,
                         ::testing::Values("dicomdirtests/77654033/CR1/6154", "dicomdirtests/77654033/CR2/6247",
                                           "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
                                           "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPGExtended.dcm",
                                           "CT_small.dcm", "image_dfl.dcm"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Dicom, MonochromeOneIsInvertedSoBoneIsBright) {
  const fs::path file = kFiles / "dicomdirtests/77654033/CR1/6154";
  if (!fs::exists(file)) GTEST_SKIP() << "python3-pydicom absent";
  const Image img = read_dicom(file.string());
  EXPECT_EQ(img.facts.photometric, "MONOCHROME1");
  EXPECT_NE(img.facts.rescale_slope, 1.0);  // this CR carries a real modality LUT
}

TEST(Dicom, RefusalsNameTheFileAndTheReason) {
  const std::pair<std::string, std::string> cases[] = {
      {(kFiles / "SC_rgb_dcmtk_+eb+cr.dcm").string(), "colour"},
      {(kFiles / "SC_rgb_rle.dcm").string(), "colour"},
      {(kFiles / "rtplan.dcm").string(), "no image"},
      {(kFiles / "GDCMJ2K_TextGBR.dcm").string(), "colour"},
      {(kFiles / "MR_truncated.dcm").string(), "MR_truncated.dcm"},
      {"/usr/share/doc/libgdcm3.0/examples/00191113.dcm", "multi-frame"}};
  for (const auto& [path, needle] : cases) {
    if (!fs::exists(path)) continue;
    try {
      read_image(path);
      ADD_FAILURE() << path << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fs::path(path).filename().string()), std::string::npos) << e.what();
    }
  }
  const fs::path garbage = fs::temp_directory_path() / ("cxr_garbage_" + std::to_string(getpid()) + ".dcm");
  std::ofstream(garbage) << std::string(128, 'x') << "DICM" << std::string(300, '\x07');
  EXPECT_THROW(read_image(garbage.string()), UsageError);
  fs::remove(garbage);
}

}  // namespace
}  // namespace cxr
