// Hostile image files, built here byte by byte: each is refused with a UsageError that names the
// file and the reason, before anything large is allocated, and without a crash, a library's own
// print on stderr or a silently wrong image. Also run under ASan/UBSan (io_hostile_asan).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <functional>
#include <new>

#include <zlib.h>

#include "core/errors.h"
#include "io/dicom_reader.h"
#include "io/dicom_writer.h"
#include "io/image_reader.h"
#include "io/png_io.h"
#include "tests/io/hostile_files.h"

namespace cxr {
namespace {

using namespace cxr::testing;
namespace fs = std::filesystem;

// Reads `path` expecting a UsageError whose message names the file and contains `reason`.
void expect_refused(const std::string& path, const std::string& reason, DicomDecoder decoder = DicomDecoder::Auto) {
  SCOPED_TRACE(path);
  try {
    const Image img = decoder == DicomDecoder::Auto ? read_image(path) : read_dicom(path, decoder);
    ADD_FAILURE() << "accepted as a " << img.width << "x" << img.height << " image";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(fs::path(path).filename().string()), std::string::npos) << what;
    EXPECT_NE(what.find(reason), std::string::npos) << "expected '" << reason << "' in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a UsageError: " << e.what();
  }
}

Image ramp_image(int64_t w, int64_t h) {
  Image img;
  img.width = w;
  img.height = h;
  for (int64_t i = 0; i < w * h; ++i) img.pixels.push_back(static_cast<float>(i) / static_cast<float>(w * h - 1));
  return img;
}

// --- sizes a header declares -------------------------------------------------------------

TEST(HostilePng, HugeDeclaredGreyIsRefusedByItsSize) {
  // 69 bytes declaring 65536 × 65536 8-bit grey.
  const std::string png = png_file(65536, 65536, 8, 0, std::string(1, '\0'));
  EXPECT_LE(png.size(), 80u);
  expect_refused(write_temp("huge_grey.png", png), "pixels");
}

TEST(HostilePng, HugeDeclaredRgb16IsAUsageError) {
  expect_refused(write_temp("huge_rgb16.png", png_file(65536, 65536, 16, 2, std::string(1, '\0'))), "pixels");
}

TEST(HostilePng, MoreThanTheFileCanHoldIsRefused) {
  // 4000 × 4000 is within the pixel limit, but 90 bytes cannot inflate to 16 MB.
  expect_refused(write_temp("small_file.png", png_file(4000, 4000, 8, 0, std::string(10, '\0'))), "can hold");
}

std::string modality_lut_dicom(uint16_t rows, uint16_t columns) {
  RawDicom d;
  d.image_header(rows, columns);
  d.header(0x0028, 0x3000, "SQ", RawDicom::kUndefined).item();
  std::string descriptor = std::string("\x00\x01", 2) + std::string("\x00\x00", 2) + std::string("\x10\x00", 2);
  d.element(0x0028, 0x3002, "US", descriptor);
  d.element(0x0028, 0x3004, "LO", "US");
  d.element(0x0028, 0x3006, "OW", ramp_pixels(16, 16, 65535));
  d.item_end().sequence_end();
  d.native_pixels(std::string(32, '\x01'));
  return d.bytes();
}

TEST(HostileDicom, ModalityLutSequenceStillNeedsThePixels) {
  const std::string bytes = modality_lut_dicom(512, 512);
  expect_refused(write_temp("mlut_short.dcm", bytes), "pixel data");
  expect_refused(write_temp("mlut_short2.dcm", bytes), "pixel data", DicomDecoder::DcmtkRenderer);
}

TEST(HostileDicom, HugeModalityLutFileIsRefused) {
  const std::string bytes = modality_lut_dicom(16384, 16384);
  EXPECT_LT(bytes.size(), 2000u);
  expect_refused(write_temp("mlut_huge.dcm", bytes), "pixels");
}

TEST(HostileDicom, ValidModalityLutFileReads) {
  RawDicom d;
  d.image_header(16, 16);
  d.header(0x0028, 0x3000, "SQ", RawDicom::kUndefined).item();
  d.element(0x0028, 0x3002, "US", std::string("\x00\x10", 2) + std::string("\x00\x00", 2) + std::string("\x10\x00", 2));
  d.element(0x0028, 0x3004, "LO", "US");
  d.element(0x0028, 0x3006, "OW", ramp_pixels(64, 64, 65535));
  d.item_end().sequence_end();
  d.native_pixels(ramp_pixels(16, 16, 4095));
  const Image img = read_image(write_temp("mlut_ok.dcm", d.bytes()));
  EXPECT_EQ(img.width, 16);
  EXPECT_GT(img.pixels.back(), 0.9f);
}

// --- nesting ----------------------------------------------------------------------------

TEST(HostileDicom, DeeplyNestedSequencesAreRefused) {
  expect_refused(write_temp("nest_explicit.dcm", nested_sequences_dicom(10000, RawDicom::kExplicitLE, false)), "nested");
  expect_refused(write_temp("nest_implicit.dcm", nested_sequences_dicom(10000, RawDicom::kImplicitLE, false)), "nested");
  expect_refused(write_temp("nest_defined.dcm", nested_sequences_dicom(10000, RawDicom::kExplicitLE, true)), "nested");
  expect_refused(write_temp("nest_implicit_defined.dcm", nested_sequences_dicom(10000, RawDicom::kImplicitLE, true)),
                 "nested");
  expect_refused(write_temp("nest_un.dcm", nested_sequences_dicom(10000, RawDicom::kExplicitLE, false, true)), "nested");
  expect_refused(write_temp("nest_65.dcm", nested_sequences_dicom(65, RawDicom::kExplicitLE, false)), "nested");
}

TEST(HostileDicom, NestingWithinTheLimitReads) {
  for (bool defined : {false, true}) {
    const Image img = read_image(write_temp("nest_ok.dcm", nested_sequences_dicom(64, RawDicom::kExplicitLE, defined)));
    EXPECT_EQ(img.width, 4);
    const Image imp = read_image(write_temp("nest_ok_i.dcm", nested_sequences_dicom(30, RawDicom::kImplicitLE, defined)));
    EXPECT_EQ(imp.width, 4);
  }
}

// --- values that make the image non-finite ---------------------------------------------

TEST(HostileDicom, NonFiniteParametersAreRefused) {
  expect_refused(write_temp("slope_nan.dcm", dicom_with_0028(8, 8, {{0x1052, "0"}, {0x1053, "NaN"}})), "Rescale Slope");
  expect_refused(write_temp("slope_inf.dcm", dicom_with_0028(8, 8, {{0x1052, "0"}, {0x1053, "1e400"}})), "Rescale Slope");
  expect_refused(write_temp("intercept_nan.dcm", dicom_with_0028(8, 8, {{0x1052, "NaN"}, {0x1053, "1"}})),
                 "Rescale Intercept");
  expect_refused(write_temp("center_nan.dcm", dicom_with_0028(8, 8, {{0x1050, "NaN"}, {0x1051, "400"}})), "Window Center");
  expect_refused(write_temp("width_inf.dcm", dicom_with_0028(8, 8, {{0x1050, "100"}, {0x1051, "1e400"}})), "Window Width");
  // Finite but so large that slope × value overflows.
  expect_refused(write_temp("slope_huge.dcm", dicom_with_0028(8, 8, {{0x1052, "0"}, {0x1053, "1e305"}})), "finite");
}

// --- pixel data that does not fit the header ---------------------------------------------

TEST(HostileDicom, JpegFrameSmallerThanTheHeaderIsRefused) {
  const std::string small = temp_path("jpeg32.dcm");
  DicomEncoding enc;
  enc.compression = "jpeg-lossless";
  write_dicom(small, ramp_image(32, 32), enc, "p");
  const auto fragments = encapsulated_fragments(read_bytes(small));
  ASSERT_FALSE(fragments.empty());
  RawDicom d(RawDicom::kJpegLossless);
  d.image_header(64, 64).encapsulated_pixels(fragments);
  const std::string path = write_temp("jpeg_sof_small.dcm", d.bytes());
  expect_refused(path, "frame");
  expect_refused(path, "frame", DicomDecoder::DcmtkRenderer);
  // The same fragments under their own size read.
  RawDicom ok(RawDicom::kJpegLossless);
  ok.image_header(32, 32).encapsulated_pixels(fragments);
  EXPECT_EQ(read_image(write_temp("jpeg_ok.dcm", ok.bytes())).width, 32);
}

std::vector<uint16_t> ramp_values(int n, int max) {
  std::vector<uint16_t> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<uint16_t>(i * max / (n - 1)));
  return v;
}

std::string rle_dicom(const std::string& frame) {
  RawDicom d(RawDicom::kRle);
  d.image_header(16, 16).encapsulated_pixels({frame});
  return d.bytes();
}

TEST(HostileDicom, ValidRleReads) {
  const Image img = read_image(write_temp("rle_ok.dcm", rle_dicom(rle_frame(ramp_values(256, 4000)))));
  ASSERT_EQ(img.width, 16);
  EXPECT_LT(img.pixels.front(), 0.01f);
  EXPECT_GT(img.pixels.back(), 0.99f);
}

TEST(HostileDicom, RleWithAGarbledOrShortSegmentIsRefused) {
  const std::string good = rle_frame(ramp_values(256, 4000));
  // Short: the second segment loses half of its bytes.
  expect_refused(write_temp("rle_short.dcm", rle_dicom(good.substr(0, good.size() - 140))), "RLE");
  // Garbled: the second segment replaced by one replicate run of 10 bytes.
  const uint32_t second = static_cast<uint8_t>(good[8]) | static_cast<uint8_t>(good[9]) << 8;
  std::string garbled = good.substr(0, second) + std::string("\xF7\x00", 2);
  expect_refused(write_temp("rle_garbled.dcm", rle_dicom(garbled)), "RLE");
  // Garbled header: the second segment's offset lies beyond the frame.
  std::string offsets = good;
  offsets[9] = '\x7f';
  expect_refused(write_temp("rle_offset.dcm", rle_dicom(offsets)), "RLE");
  // Garbled header: one segment for 16-bit pixels.
  std::string count = good;
  count[0] = 1;
  expect_refused(write_temp("rle_count.dcm", rle_dicom(count)), "RLE");
  expect_refused(write_temp("rle_short_gdcm.dcm", rle_dicom(good.substr(0, good.size() - 140))), "RLE",
                 DicomDecoder::Gdcm);
}

// --- libraries' own messages -------------------------------------------------------------

TEST(LibraryMessages, NeverReachStderrAndAreFoldedIntoTheError) {
  RawDicom j2k(RawDicom::kJpeg2000);
  j2k.image_header(8, 8).encapsulated_pixels({"this is not a JPEG 2000 codestream"});
  const std::string bad_j2k = write_temp("j2k_garbage.dcm", j2k.bytes());
  const std::string good = rle_frame(ramp_values(256, 4000));
  const std::string short_rle = write_temp("rle_short_msg.dcm", rle_dicom(good.substr(0, good.size() - 140)));
  ::testing::internal::CaptureStderr();
  std::string j2k_error;
  for (const std::string& path : {bad_j2k, short_rle}) {
    for (DicomDecoder decoder : {DicomDecoder::Auto, DicomDecoder::DcmtkRenderer, DicomDecoder::Gdcm}) {
      try {
        read_dicom(path, decoder);
      } catch (const std::exception& e) {
        if (path == bad_j2k && j2k_error.empty()) j2k_error = e.what();
      }
    }
  }
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, "") << "a library printed on stderr";
  EXPECT_NE(j2k_error.find("j2k_garbage.dcm"), std::string::npos) << j2k_error;
}

// A codestream whose SOC and SIZ fit the header but whose tiles are garbage: OpenJPEG itself
// complains, through GDCM's handler, and the complaint lands in the error, not on stderr.
TEST(LibraryMessages, OpenJpegComplaintsAreFoldedIntoTheError) {
  const auto be16 = [](uint16_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; };
  const auto be32 = [&](uint32_t v) { return be16(static_cast<uint16_t>(v >> 16)) + be16(static_cast<uint16_t>(v)); };
  std::string j2k = "\xFF\x4F\xFF\x51" + be16(41) + be16(0) + be32(8) + be32(8) + be32(0) + be32(0) + be32(8) + be32(8) +
                    be32(0) + be32(0) + be16(1) + std::string("\x07\x01\x01", 3);
  j2k += std::string(40, '\x5A') + "\xFF\xD9";
  RawDicom d(RawDicom::kJpeg2000);
  d.image_header(8, 8).encapsulated_pixels({j2k});
  const std::string path = write_temp("j2k_tiles.dcm", d.bytes());
  ::testing::internal::CaptureStderr();
  std::string error;
  try {
    read_image(path);
  } catch (const UsageError& e) {
    error = e.what();
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "a library printed on stderr";
  EXPECT_NE(error.find("j2k_tiles.dcm"), std::string::npos) << error;
  EXPECT_NE(error.find("OpenJPEG: "), std::string::npos) << error;
}

// --- 16-bit PNGs with fewer significant bits ---------------------------------------------

TEST(Png16, SignificantBitsChunkScalesTheValues) {
  const Image img = read_png(write_temp("sbit12.png", png16(16, 16, ramp_values(256, 4095), 12)));
  EXPECT_GT(img.pixels.back(), 0.99f);
  EXPECT_LT(img.pixels.front(), 0.01f);
  EXPECT_EQ(img.facts.bits_stored, 12);
  // A spec-conforming writer shifts the values up to 16 bits: the same picture.
  std::vector<uint16_t> shifted = ramp_values(256, 4095);
  for (auto& v : shifted) v = static_cast<uint16_t>(v << 4 | v >> 8);
  const Image up = read_png(write_temp("sbit12_shifted.png", png16(16, 16, shifted, 12)));
  for (size_t i = 0; i < img.pixels.size(); ++i) EXPECT_NEAR(up.pixels[i], img.pixels[i], 1e-4) << i;
}

TEST(Png16, NarrowRangeWithoutSbitWarnsOncePerRun) {
  const std::string a = write_temp("narrow_a.png", png16(16, 16, ramp_values(256, 4095)));
  const std::string b = write_temp("narrow_b.png", png16(16, 16, ramp_values(256, 4095)));
  ::testing::internal::CaptureStderr();
  read_png(a);
  read_png(b);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("narrow_a.png"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("narrow_b.png"), std::string::npos) << printed;
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 1) << printed;
  EXPECT_EQ(printed.rfind("cxrtune: warning: ", 0), 0u) << printed;
}


// --- limits from the recipe, and library exceptions as the file's error -----------------

TEST(InputLimitsReachTheReaders, ASmallerPixelLimitRefusesBothFormats) {
  InputLimits small;
  small.max_image_pixels = 100;
  const std::string png = write_temp("limit.png", png16(16, 16, ramp_values(256, 65535)));
  const std::string dcm = write_temp("limit.dcm", dicom_with_0028(16, 16, {}));
  EXPECT_EQ(read_image(png).width, 16);
  EXPECT_EQ(read_image(dcm).width, 16);
  try {
    read_image(png, small);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("data.max_image_pixels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_image(dcm, small), UsageError);
}

TEST(FileErrors, AnyLibraryExceptionBecomesTheFilesUsageError) {
  const auto expect = [](const std::function<Image()>& f, const char* needle) {
    try {
      read_as_file_error("/data/x.dcm", f);
      ADD_FAILURE() << "no error";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("/data/x.dcm"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect([]() -> Image { throw std::bad_alloc(); }, "out of memory");
  expect([]() -> Image { throw std::length_error("vector::_M_default_append"); }, "vector");
  expect([]() -> Image { throw UsageError("/data/x.dcm: kept as it is"); }, "kept as it is");
  EXPECT_THROW(read_as_file_error("/data/x.dcm", []() -> Image { throw RuntimeFailure("disk"); }), RuntimeFailure);
}

TEST(HostileDicom, NativePixelDataLongerThanTheFileIsRefused) {
  RawDicom d;
  d.image_header(64, 64);
  d.header(0x7FE0, 0x0010, "OW", 0x7FFFFFF0u).raw(ramp_pixels(64, 64, 100));
  try {
    read_image(write_temp("px_long.dcm", d.bytes()));
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("px_long.dcm"), std::string::npos) << e.what();
  }
}

TEST(HostileDicom, DeflatedNestingIsRefusedToo) {
  // The data set of a deflated file is only seen after inflating: the pre-scan inflates.
  const std::string plain = nested_sequences_dicom(10000, RawDicom::kExplicitLE, false);
  RawDicom meta_only("1.2.840.10008.1.2.1.99");
  const std::string head = meta_only.bytes();
  const std::string data_set = plain.substr(RawDicom().bytes().size());
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data_set.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data_set.data()));
  z.avail_in = static_cast<uInt>(data_set.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  expect_refused(write_temp("nest_deflated.dcm", head + out), "nested");
}

}  // namespace
}  // namespace cxr
