// Builders of hostile (and a few valid) image files, byte by byte, for the reader tests: the
// files a user can hand cxrtune that lie about their size, nest without end, hold non-finite
// parameters or pixel data that does not fit the header. Nothing is downloaded.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cxr::testing {

// A DICOM file (128-byte preamble, "DICM", file meta group) whose data set is written element by
// element in the transfer syntax given. Tags must be added in ascending order, as DICOM wants.
class RawDicom {
 public:
  static constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";
  static constexpr const char* kImplicitLE = "1.2.840.10008.1.2";
  static constexpr const char* kRle = "1.2.840.10008.1.2.5";
  static constexpr const char* kJpegLossless = "1.2.840.10008.1.2.4.70";
  static constexpr const char* kJpeg2000 = "1.2.840.10008.1.2.4.90";
  static constexpr uint32_t kUndefined = 0xFFFFFFFFu;

  explicit RawDicom(std::string transfer_syntax = kExplicitLE);

  // One element; the value is padded to even length (space for text VRs, NUL otherwise).
  RawDicom& element(uint16_t group, uint16_t elem, const char* vr, std::string value);
  RawDicom& us(uint16_t group, uint16_t elem, uint16_t value);
  // The header of a sequence (explicit VR "SQ", or implicit) or of an element of the VR given
  // with this length (undefined: 0xFFFFFFFF); its content follows with the calls below.
  RawDicom& header(uint16_t group, uint16_t elem, const char* vr, uint32_t length);
  RawDicom& item(uint32_t length = kUndefined);
  RawDicom& item_end();
  RawDicom& sequence_end();
  RawDicom& raw(const std::string& bytes);
  // Greyscale image attributes (SOP class to Pixel Representation), MONOCHROME2, unsigned.
  RawDicom& image_header(uint16_t rows, uint16_t columns, uint16_t bits_allocated = 16, uint16_t bits_stored = 16);
  // Pixel Data: native (OW) or encapsulated (an empty offset table, then the fragments).
  RawDicom& native_pixels(const std::string& bytes);
  RawDicom& encapsulated_pixels(const std::vector<std::string>& fragments);

  std::string bytes() const;
  void write(const std::string& path) const;
  bool implicit() const { return implicit_; }

 private:
  std::string transfer_syntax_;
  bool implicit_ = false;
  std::string data_;
};

// 16-bit little-endian native pixels of a rows × columns ramp (values 0 .. max).
std::string ramp_pixels(int rows, int columns, int max);

// A minimal valid-image data set (explicit VR LE, rows × columns ramp, 16 bits), with the
// attributes of group 0028 after Pixel Representation given as (element, value) text pairs, e.g.
// {{0x1050, "NaN"}} for Window Center; elements are written in the order given (ascending).
std::string dicom_with_0028(int rows, int columns, const std::vector<std::pair<uint16_t, std::string>>& extra);

// `depth` sequences nested inside each other in the transfer syntax given: undefined lengths, or
// (defined = true) every sequence and item with its exact length; un = true writes each sequence
// as explicit VR UN of undefined length (whose content DICOM reads as implicit VR).
std::string nested_sequences_dicom(int depth, const char* transfer_syntax, bool defined, bool un = false);

// The fragments of the encapsulated Pixel Data of a DICOM file's bytes (offset table left out).
std::vector<std::string> encapsulated_fragments(const std::string& file_bytes);

// DICOM RLE (PS3.5 annex G) of 16-bit values: the header and one literal-run segment per byte.
std::string rle_frame(const std::vector<uint16_t>& values);

// A PNG from its parts: IHDR as given, one IDAT holding `idat_raw` deflated, optional sBIT.
std::string png_file(uint32_t width, uint32_t height, int depth, int color_type, const std::string& idat_raw,
                     int sbit = 0);
// A 16-bit greyscale PNG of `values` (row-major, width × height).
std::string png16(uint32_t width, uint32_t height, const std::vector<uint16_t>& values, int sbit = 0);

std::string read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& bytes);
std::string temp_path(const std::string& name);  // unique per process, under the temp directory
// `bytes` written to temp_path(name); returns that path.
std::string write_temp(const std::string& name, const std::string& bytes);

}  // namespace cxr::testing
