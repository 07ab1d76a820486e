// JPEG 2000 through GDCM and cxrtune's own display pipeline (voi_transform.h), checked three
// ways: the lossless J2K copy of pydicom's MR_small renders like DCMTK renders the original;
// forcing the GDCM path on files DCMTK decodes (MONOCHROME1 with rescale and window, signed
// CT with min–max, big endian, RLE, 12-bit JPEG) gives DCMTK's picture within 1 grey level;
// Pixel Padding is left out of the min–max window by both paths alike. Truncated files of
// every encoding are UsageErrors naming the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "io/dicom_reader.h"
#include "io/gdcm_decoder.h"
#include "io/voi_transform.h"

namespace cxr {
namespace {

namespace fs = std::filesystem;
const fs::path kFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

double max_grey_difference(const Image& a, const Image& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  if (a.pixels.size() != b.pixels.size()) return 255;
  double worst = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i)
    worst = std::max(worst, std::abs(std::round(a.pixels[i] * 255.0) - std::round(b.pixels[i] * 255.0)));
  return worst;
}

fs::path temp_file(const std::string& stem) {
  return fs::temp_directory_path() / ("cxr_" + stem + "_" + std::to_string(getpid()) + ".dcm");
}

TEST(Jpeg2000, LosslessCopyRendersLikeTheOriginal) {
  if (!gdcm_available()) GTEST_SKIP() << "built without GDCM (CXRTUNE_WITH_ITK=OFF)";
  if (!fs::exists(kFiles / "MR_small_jp2klossless.dcm")) GTEST_SKIP() << "python3-pydicom absent";
  const Image j2k = read_dicom((kFiles / "MR_small_jp2klossless.dcm").string());
  const Image original = read_dicom((kFiles / "MR_small.dcm").string());
  EXPECT_NE(j2k.facts.transfer_syntax.find("JPEG 2000"), std::string::npos) << j2k.facts.transfer_syntax;
  EXPECT_EQ(j2k.facts.decoder, "gdcm");
  EXPECT_EQ(original.facts.decoder, "dcmtk");
  EXPECT_EQ(j2k.facts.voi, "window 600/1600");
  EXPECT_LE(max_grey_difference(j2k, original), 1.0);
}

TEST(Jpeg2000, OtherPydicomFilesDecode) {
  if (!gdcm_available()) GTEST_SKIP() << "built without GDCM";
  const std::tuple<std::string, int64_t, int64_t> cases[] = {
      {"693_J2KI.dcm", 512, 512}, {"J2K_pixelrep_mismatch.dcm", 512, 512}, {"JPEG2000.dcm", 256, 1024}};
  for (const auto& [name, w, h] : cases) {
    if (!fs::exists(kFiles / name)) continue;
    const Image img = read_dicom((kFiles / name).string());
    EXPECT_EQ(img.width, w) << name;
    EXPECT_EQ(img.height, h) << name;
    float lo = 1, hi = 0;
    for (float v : img.pixels) lo = std::min(lo, v), hi = std::max(hi, v);
    EXPECT_GE(lo, 0.0f) << name;
    EXPECT_LE(hi, 1.0f) << name;
    EXPECT_GT(hi - lo, 0.5f) << name << ": display image nearly flat (" << img.facts.voi << ")";
  }
}

class GdcmPath : public ::testing::TestWithParam<std::string> {};

// DCMTK's own renderer against cxrtune's pipeline over DCMTK's and over GDCM's decoding.
TEST_P(GdcmPath, AgreesWithDcmtk) {
  const fs::path file = kFiles / GetParam();
  if (!fs::exists(file)) GTEST_SKIP() << file << " absent";
  const Image dcmtk = read_dicom(file.string(), DicomDecoder::DcmtkRenderer);
  const Image ours = read_dicom(file.string());
  EXPECT_EQ(ours.facts.voi, dcmtk.facts.voi);
  EXPECT_LE(max_grey_difference(ours, dcmtk), 1.0) << GetParam() << " (" << dcmtk.facts.voi << ")";
  if (!gdcm_available()) GTEST_SKIP() << "built without GDCM";
  const Image gdcm = read_dicom(file.string(), DicomDecoder::Gdcm);
  EXPECT_EQ(gdcm.facts.voi, dcmtk.facts.voi);
  EXPECT_LE(max_grey_difference(gdcm, dcmtk), 1.0) << GetParam() << " (" << dcmtk.facts.voi << ")";
}

INSTANTIATE_TEST_SUITE_P(Debian, GdcmPath,
                         ::testing::Values("dicomdirtests/77654033/CR1/6154", "CT_small.dcm", "MR_small_bigendian.dcm",
                                           "MR_small_RLE.dcm", "JPGExtended.dcm", "image_dfl.dcm"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(PixelPadding, LeftOutOfTheMinMaxWindowByBothPaths) {
  const fs::path src = kFiles / "CT_small.dcm";
  if (!fs::exists(src)) GTEST_SKIP() << "python3-pydicom absent";
  if (std::system("command -v dcmodify > /dev/null") != 0) GTEST_SKIP() << "dcmodify absent (apt-get install dcmtk)";
  const fs::path padded = temp_file("padded");
  fs::copy_file(src, padded, fs::copy_options::overwrite_existing);
  // CT_small's stored values run from 128 to 2191: declare 128..700 padding.
  const std::string cmd = "dcmodify -nb -i '(0028,0120)=128' -i '(0028,0121)=700' " + padded.string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Image plain = read_dicom(src.string());
  const Image dcmtk = read_dicom(padded.string(), DicomDecoder::DcmtkRenderer);
  fs::remove(padded.string() + ".bak");
  ASSERT_EQ(dcmtk.facts.voi, "min-max");
  // With the darkest values declared padding the window narrows: more pixels clamp to black.
  const auto black = [](const Image& im) { return std::count_if(im.pixels.begin(), im.pixels.end(), [](float v) { return v == 0.0f; }); };
  EXPECT_GT(black(dcmtk), black(plain) + 100);
  EXPECT_LE(max_grey_difference(read_dicom(padded.string()), dcmtk), 1.0);
  if (gdcm_available()) {
    EXPECT_LE(max_grey_difference(read_dicom(padded.string(), DicomDecoder::Gdcm), dcmtk), 1.0);
  }
  fs::remove(padded);
}

TEST(VoiTransform, LinearWindowFollowsPs3_3) {
  // Supplement 33: centre 2^n−1 and width 2^n select the input range 0 .. 2^n−1 (here n = 1).
  EXPECT_DOUBLE_EQ(linear_window(-1, 1, 2), 0.0);
  EXPECT_DOUBLE_EQ(linear_window(0, 1, 2), 0.0);
  EXPECT_DOUBLE_EQ(linear_window(1, 1, 2), 1.0);
  EXPECT_DOUBLE_EQ(linear_window(2048, 2048, 4096), (2048 - 2047.5) / 4095 + 0.5);
  DisplayParams p;
  p.monochrome1 = true;
  p.padding = std::make_pair(int64_t{0}, int64_t{0});
  const std::vector<uint16_t> cells{0, 10, 20};
  const DisplayResult r = cells_to_display({cells.data(), 3, 16, 12, false}, p);  // padding 0 excluded: min-max 10..20
  EXPECT_EQ(r.voi, "min-max");
  EXPECT_EQ(r.pixels, (std::vector<float>{1.0f, 1.0f, 0.0f}));  // inverted: the lowest value is white
}

TEST(VoiTransform, SignedCellsAreSignExtendedAndHighBitsIgnored) {
  // 12 bits stored, signed, in 16-bit cells whose top 4 bits carry overlay garbage.
  const std::vector<uint16_t> cells{0x0FFF, 0x0800, 0x07FF, 0xF001, 0xA000};  // -1, -2048, 2047, 1, 0
  DisplayParams p;
  p.slope = 2.0, p.intercept = 100.0;  // modality: -2048 → -3996, 2047 → 4194
  const DisplayResult mm = cells_to_display({cells.data(), cells.size(), 16, 12, true}, p);
  ASSERT_EQ(mm.voi, "min-max");
  const double lo = -3996, hi = 4194, center = (lo + hi + 1) / 2, width = hi - lo + 1;
  const std::vector<double> modality{98, -3996, 4194, 102, 100};
  for (size_t i = 0; i < cells.size(); ++i)
    EXPECT_FLOAT_EQ(mm.pixels[i], static_cast<float>(linear_window(modality[i], center, width))) << i;
  EXPECT_EQ(mm.pixels[1], 0.0f);
  EXPECT_EQ(mm.pixels[2], 1.0f);
  p.window = std::make_pair(100.0, 10.0);  // a narrow window around modality 100: 98 < 100 < 102
  const DisplayResult w = cells_to_display({cells.data(), cells.size(), 16, 12, true}, p);
  EXPECT_LT(w.pixels[0], w.pixels[4]);
  EXPECT_LT(w.pixels[4], w.pixels[3]);
  EXPECT_THROW(cells_to_display({cells.data(), cells.size(), 16, 17, true}, p), UsageError);
}

TEST(Truncated, EveryEncodingIsAUsageErrorNamingTheFile) {
  for (const std::string name : {"CT_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPGExtended.dcm",
                                 "MR_small_jp2klossless.dcm", "image_dfl.dcm"}) {
    const fs::path src = kFiles / name;
    if (!fs::exists(src)) continue;
    const auto size = fs::file_size(src);
    std::string bytes(size, '\0');
    std::ifstream(src, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(size));
    const fs::path cut = temp_file("truncated_" + fs::path(name).stem().string());
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size * 6 / 10));
    try {
      read_dicom(cut.string());
      ADD_FAILURE() << name << " cut to 60% was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(cut.filename().string()), std::string::npos) << e.what();
      std::printf("[%s cut to 60%%] %s\n", name.c_str(), e.what());
    }
    fs::remove(cut);
  }
}

}  // namespace
}  // namespace cxr
