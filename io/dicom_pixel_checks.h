// Whether a DICOM file's Pixel Data can be the frame its header declares, checked before any
// decoder runs. Decoders trust the header: DCMTK fills a Rows × Columns buffer from a JPEG frame
// of any size and from a short or garbled RLE segment, and its renderer pads missing native
// pixels with black. So: native pixel data must hold Rows × Columns × Bits Allocated bits and
// no more than the file has; a JPEG (SOF), JPEG-LS (SOF55) or JPEG 2000 (SIZ) frame must have
// the header's columns, rows and one component; an RLE frame must have one segment per byte of
// a pixel, at offsets inside the frame, each decoding to at least Rows × Columns bytes.
// Failure modes: UsageError naming the file and what does not match.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

class DcmDataset;

namespace cxr {

struct DicomHeader;

void check_pixel_data(DcmDataset& ds, const DicomHeader& header, const std::string& path, uint64_t file_bytes);

// The size a coded frame declares in its own header; nullopt when the marker is missing.
struct CodedSize {
  int64_t width = 0, height = 0, components = 0;
};
std::optional<CodedSize> jpeg_frame_size(std::string_view frame);   // SOFn, or SOF55 (JPEG-LS)
std::optional<CodedSize> j2k_frame_size(std::string_view frame);    // SIZ of the codestream

// Empty when the RLE frame (PS3.5 annex G) has `segments` segments that each decode to at
// least `pixels` bytes; otherwise what is wrong, in words.
std::string rle_frame_problem(std::string_view frame, int64_t pixels, int segments);

}  // namespace cxr
