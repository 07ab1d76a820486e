// The file type by content, whatever the name: DICOM with and without preamble (and without file
// meta group), DICOMDIR and non-image DICOM objects, PNG and JPEG by their signatures, and
// everything else "neither DICOM, PNG nor JPEG". Also run under ASan/UBSan (io_sanitized_tests).
#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "io/dicom_writer.h"
#include "io/image_reader.h"
#include "io/image_sniff.h"
#include "io/png_io.h"
#include "tests/io/hostile_files.h"
#include "tests/io/jpeg_files.h"

namespace cxr {
namespace {

using namespace cxr::testing;
namespace fs = std::filesystem;

Image gradient(int64_t w, int64_t h) {
  Image img;
  img.width = w;
  img.height = h;
  for (int64_t i = 0; i < w * h; ++i) img.pixels.push_back(static_cast<float>(i % w) / static_cast<float>(w - 1));
  return img;
}

std::string dicom_bytes() {
  const std::string path = temp_path("sniff_source.dcm");
  write_dicom(path, gradient(24, 20), DicomEncoding{}, "SNIFF-1");
  return read_bytes(path);
}

uint32_t le32(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) | static_cast<unsigned char>(b[at + 1]) << 8 |
         static_cast<unsigned char>(b[at + 2]) << 16 | static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}

// The data set alone: preamble, "DICM" and the file meta group (its length from (0002,0000)) cut.
std::string data_set_only(const std::string& file) {
  EXPECT_EQ(file.substr(132, 4), std::string("\x02\0\0\0", 4));
  return file.substr(132 + 12 + le32(file, 140));
}

void expect_read(const std::string& path, ImageKind kind, const std::string& format, int64_t width) {
  SCOPED_TRACE(path);
  EXPECT_EQ(sniff_image_file(path), kind) << image_kind_name(sniff_image_file(path));
  const Image img = read_image(path);
  EXPECT_EQ(img.facts.format, format);
  EXPECT_EQ(img.width, width);
}

void expect_refused(const std::string& path, ImageKind kind, const std::string& reason) {
  SCOPED_TRACE(path);
  EXPECT_EQ(sniff_image_file(path), kind) << image_kind_name(sniff_image_file(path));
  try {
    read_image(path);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(fs::path(path).filename().string() + ": " + reason), std::string::npos) << e.what();
  }
}

TEST(ImageSniff, DicomWithoutExtension) {
  expect_read(write_temp("1.2.826.0.1.3680043.10.99", dicom_bytes()), ImageKind::Dicom, "dicom", 24);
}

TEST(ImageSniff, PreamblelessDicomNamedBin) {
  const std::string file = dicom_bytes();
  // File meta group first (group 0002), then the data set alone (explicit VR, group 0008).
  expect_read(write_temp("meta_first.bin", file.substr(132)), ImageKind::Dicom, "dicom", 24);
  expect_read(write_temp("data_set.bin", data_set_only(file)), ImageKind::Dicom, "dicom", 24);
}

TEST(ImageSniff, PreamblelessImplicitVrDataSet) {
  RawDicom d(RawDicom::kImplicitLE);
  d.image_header(4, 6).native_pixels(ramp_pixels(4, 6, 1000));
  expect_read(write_temp("implicit.raw", data_set_only(d.bytes())), ImageKind::Dicom, "dicom", 6);
}

TEST(ImageSniff, PngNamedJpgAndJpegNamedDcm) {
  const std::string png = temp_path("really_png.jpg");
  write_png(png, gradient(20, 10), 8);
  expect_read(png, ImageKind::Png, "png", 20);
  expect_read(write_temp("really_jpeg.dcm", jpeg_file(30, 12, 1, jpeg_test_pattern(30, 12, 1, 1))), ImageKind::Jpeg,
              "jpeg", 30);
}

TEST(ImageSniff, TextAndLookalikesAreNotImages) {
  expect_refused(write_temp("notes.dcm", "Patient list, do not share\n"), ImageKind::NotImage, "neither DICOM, PNG nor JPEG");
  // Starts like a group 0008 tag, then neither a VR nor a plausible length.
  expect_refused(write_temp("lookalike.bin", std::string("\x08\0\x05\0ZZ\x7f\x7fmore bytes here", 18)), ImageKind::NotImage,
                 "neither DICOM, PNG nor JPEG");
  // A plausible first element but a second one out of tag order.
  expect_refused(write_temp("unordered.bin", std::string("\x08\0\x16\0UI\x02\0" "1\0" "\x08\0\x05\0CS\x02\0" "AB", 20)),
                 ImageKind::NotImage, "neither DICOM, PNG nor JPEG");
  expect_refused(write_temp("empty.dcm", ""), ImageKind::NotImage, "empty file");
  EXPECT_EQ(sniff_image_file(temp_path("does_not_exist")), ImageKind::Unreadable);
}

// Preamble, "DICM" and a file meta group naming `sop_class`; no data set.
std::string meta_only(const std::string& sop_class) {
  auto element = [](uint16_t e, std::string v) {
    if (v.size() % 2) v += '\0';
    return std::string("\x02\0", 2) + static_cast<char>(e & 0xFF) + static_cast<char>(e >> 8) + "UI" +
           static_cast<char>(v.size()) + '\0' + v;
  };
  return std::string(128, '\0') + "DICM" + element(0x0002, sop_class) + element(0x0010, "1.2.840.10008.1.2.1");
}

TEST(ImageSniff, DicomDirAndNonImageObjectsAreToldApart) {
  expect_refused(write_temp("DICOMDIR", meta_only("1.2.840.10008.1.3.10")), ImageKind::DicomDir, "a DICOMDIR");
  expect_refused(write_temp("report.dcm", meta_only("1.2.840.10008.5.1.4.1.1.88.22")), ImageKind::DicomNonImage,
                 "a DICOM object with no image (SOP class 1.2.840.10008.5.1.4.1.1.88.22");
  expect_refused(write_temp("pdf", meta_only("1.2.840.10008.5.1.4.1.1.104.1")), ImageKind::DicomNonImage, "a DICOM object");
  for (const char* image_class : {"1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.481.1", "1.2.840.10008.5.1.4.1.1.90"}) {
    const std::string bytes = meta_only(image_class);
    EXPECT_EQ(sniff_image_bytes(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()), ImageKind::Dicom)
        << image_class;
  }
  // Without preamble the data set's SOP Class UID (0008,0016) tells the same.
  const std::string sr = std::string("\x08\0\x16\0UI\x1e\0", 8) + "1.2.840.10008.5.1.4.1.1.88.11" + '\0';
  std::string uid;
  EXPECT_EQ(sniff_image_bytes(reinterpret_cast<const unsigned char*>(sr.data()), sr.size(), &uid), ImageKind::DicomNonImage);
  EXPECT_EQ(uid, "1.2.840.10008.5.1.4.1.1.88.11");
}

// Real files from other writers: pydicom's test files (python3-pydicom), where present.
TEST(ImageSniff, PydicomTestFiles) {
  const fs::path files = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
  if (!fs::exists(files / "CT_small.dcm")) GTEST_SKIP() << "skipped: python3-pydicom's test files absent";
  const std::pair<const char*, ImageKind> cases[] = {
      {"CT_small.dcm", ImageKind::Dicom},
      {"MR_small_implicit.dcm", ImageKind::Dicom},
      {"dicomdirtests/DICOMDIR", ImageKind::DicomDir},
      {"dicomdirtests/DICOMDIR-implicit", ImageKind::DicomDir},
      {"dicomdirtests/DICOMDIR-bigEnd", ImageKind::DicomDir},
      {"dicomdirtests/README.txt", ImageKind::NotImage},
      {"rtplan.dcm", ImageKind::DicomNonImage},
      {"test-SR.dcm", ImageKind::DicomNonImage},
      {"waveform_ecg.dcm", ImageKind::DicomNonImage},
      {"ExplVR_LitEndNoMeta.dcm", ImageKind::DicomNonImage},  // no preamble, no meta: (0008,0016) says RT Dose
      {"zipMR.gz", ImageKind::NotImage},
  };
  for (const auto& [name, kind] : cases) {
    if (fs::exists(files / name)) {
      EXPECT_EQ(sniff_image_file((files / name).string()), kind) << name;
    }
  }
}

}  // namespace
}  // namespace cxr
