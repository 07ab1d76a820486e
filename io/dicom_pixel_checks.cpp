#include "io/dicom_pixel_checks.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "core/errors.h"
#include "io/dicom_header.h"
#include "io/image_reader.h"

namespace cxr {
namespace {

uint32_t be16(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at]) << 8 | static_cast<uint8_t>(s[at + 1]));
}
uint32_t be32(std::string_view s, size_t at) { return be16(s, at) << 16 | be16(s, at + 2); }
uint32_t le32(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at])) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3])) << 24;
}

bool starts_with(const std::string& uid, const char* prefix) { return uid.rfind(prefix, 0) == 0; }

// The bytes of the one frame: every fragment after the Basic Offset Table, in order.
std::string encapsulated_frame(DcmDataset& ds, const std::string& path) {
  DcmElement* element = nullptr;
  auto* pixels = ds.findAndGetElement(DCM_PixelData, element).good() ? dynamic_cast<DcmPixelData*>(element) : nullptr;
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter* param = nullptr;
  DcmPixelSequence* sequence = nullptr;
  if (pixels) pixels->getOriginalRepresentationKey(xfer, param);
  if (!pixels || pixels->getEncapsulatedRepresentation(xfer, param, sequence).bad() || !sequence)
    throw UsageError(path + ": the transfer syntax is compressed but the Pixel Data is not encapsulated");
  std::string frame;
  for (unsigned long i = 1; i < sequence->card(); ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (sequence->getItem(item, i).bad() || !item) break;
    const Uint32 length = item->getLength();
    if (length == 0) continue;
    if (item->getUint8Array(data).bad() || !data) throw UsageError(path + ": a pixel data fragment cannot be read (truncated?)");
    frame.append(reinterpret_cast<const char*>(data), length);
  }
  if (frame.empty()) throw UsageError(path + ": the encapsulated Pixel Data holds no compressed frame");
  return frame;
}

std::string size_text(int64_t w, int64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

void check_coded_size(const std::optional<CodedSize>& coded, const DicomHeader& h, const std::string& path,
                      const char* codec, const char* marker) {
  if (!coded) throw UsageError(path + ": the " + codec + " frame has no " + marker + " marker (corrupt pixel data)");
  if (coded->width != h.columns || coded->height != h.rows || coded->components != 1)
    throw UsageError(path + ": the " + codec + " frame is " + size_text(coded->width, coded->height) + " with " +
                     std::to_string(coded->components) + " component(s), but the header declares " +
                     size_text(h.columns, h.rows) + " greyscale");
}

}  // namespace

std::optional<CodedSize> jpeg_frame_size(std::string_view f) {
  if (f.size() < 4 || static_cast<uint8_t>(f[0]) != 0xFF || static_cast<uint8_t>(f[1]) != 0xD8) return std::nullopt;
  size_t p = 2;
  while (p + 4 <= f.size()) {
    if (static_cast<uint8_t>(f[p]) != 0xFF) return std::nullopt;
    const auto marker = static_cast<uint8_t>(f[p + 1]);
    if (marker == 0xFF) {  // fill byte
      ++p;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length
      p += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // scan or end before a frame header
    const size_t length = be16(f, p + 2);
    const bool sof = (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) ||
                     marker == 0xF7;
    if (sof) {
      if (length < 8 || p + 10 > f.size()) return std::nullopt;
      return CodedSize{be16(f, p + 7), be16(f, p + 5), static_cast<uint8_t>(f[p + 9])};
    }
    if (length < 2) return std::nullopt;
    p += 2 + length;
  }
  return std::nullopt;
}

std::optional<CodedSize> j2k_frame_size(std::string_view f) {
  // A raw codestream starts with SOC, SIZ; a JP2 file wraps it in a jp2c box further on.
  const size_t at = f.substr(0, std::min<size_t>(f.size(), 1 << 16)).find("\xFF\x4F\xFF\x51");
  if (at == std::string_view::npos || at + 44 > f.size()) return std::nullopt;
  const size_t siz = at + 2;
  const int64_t x = be32(f, siz + 6), y = be32(f, siz + 10), x0 = be32(f, siz + 14), y0 = be32(f, siz + 18);
  if (x < x0 || y < y0) return std::nullopt;
  return CodedSize{x - x0, y - y0, be16(f, siz + 38)};
}

std::string rle_frame_problem(std::string_view f, int64_t pixels, int segments) {
  if (f.size() < 64) return "the RLE header is truncated";
  const uint32_t count = le32(f, 0);
  if (count != static_cast<uint32_t>(segments))
    return "the RLE header lists " + std::to_string(count) + " segments, the pixels need " + std::to_string(segments);
  for (int s = 0; s < segments; ++s) {
    const uint64_t begin = le32(f, 4 + 4 * static_cast<size_t>(s));
    const uint64_t end = s + 1 < segments ? le32(f, 8 + 4 * static_cast<size_t>(s)) : f.size();
    if (begin < 64 || begin >= end || end > f.size())
      return "RLE segment " + std::to_string(s + 1) + " has offsets outside the frame (garbled header)";
    // PackBits (PS3.5 G.3.1): n < 128 copies n + 1 literal bytes, n > 128 repeats one byte
    // 257 − n times, 128 is a no-op. Only the output length is counted.
    int64_t out = 0;
    uint64_t p = begin;
    while (out < pixels && p < end) {
      const auto n = static_cast<uint8_t>(f[p++]);
      if (n < 128) {
        if (p + n + 1 > end) break;
        out += n + 1;
        p += n + 1;
      } else if (n > 128) {
        if (p + 1 > end) break;
        out += 257 - n;
        p += 1;
      }
    }
    if (out < pixels)
      return "RLE segment " + std::to_string(s + 1) + " decodes to " + std::to_string(out) + " of the " +
             std::to_string(pixels) + " bytes the header needs (short or garbled segment)";
  }
  return "";
}

void check_pixel_data(DcmDataset& ds, const DicomHeader& h, const std::string& path, uint64_t file_bytes) {
  const int64_t pixels = checked_mul(h.rows, h.columns, path, "the declared image size");
  const std::string uid = DcmXfer(ds.getOriginalXfer()).getXferID();
  if (!DcmXfer(ds.getOriginalXfer()).isEncapsulated()) {
    DcmElement* element = nullptr;
    if (ds.findAndGetElement(DCM_PixelData, element).bad() || !element)
      throw UsageError(path + ": DICOM object has no image (no Pixel Data)");
    const int64_t bits = checked_mul(pixels, h.bits_allocated, path, "the pixel data size");
    const int64_t needed = bits / 8 + (bits % 8 ? 1 : 0);
    const uint64_t length = element->getLengthField();
    // A deflated data set holds at most 1032 bytes per byte of the file (RFC 1951).
    const uint64_t capacity = uid == "1.2.840.10008.1.2.1.99" ? file_bytes * 1032 : file_bytes;
    if (length == 0xFFFFFFFFu || length > capacity)
      throw UsageError(path + ": the Pixel Data declares " + std::to_string(length) + " bytes, more than the file's " +
                       std::to_string(file_bytes) + " can hold (truncated or corrupt)");
    if (static_cast<int64_t>(length) < needed)
      throw UsageError(path + ": the pixel data holds " + std::to_string(length) + " bytes, but " +
                       size_text(h.columns, h.rows) + " pixels of " + std::to_string(h.bits_allocated) + " bits need " +
                       std::to_string(needed) + " (truncated?)");
    return;
  }
  const std::string frame = encapsulated_frame(ds, path);
  if (uid == "1.2.840.10008.1.2.5") {
    const std::string problem = rle_frame_problem(frame, pixels, std::max(1, h.bits_allocated / 8));
    if (!problem.empty()) throw UsageError(path + ": " + problem);
  } else if (starts_with(uid, "1.2.840.10008.1.2.4.8")) {
    check_coded_size(jpeg_frame_size(frame), h, path, "JPEG-LS", "SOF55");
  } else if (starts_with(uid, "1.2.840.10008.1.2.4.9")) {
    check_coded_size(j2k_frame_size(frame), h, path, "JPEG 2000", "SOC/SIZ");
  } else if (starts_with(uid, "1.2.840.10008.1.2.4.5") || starts_with(uid, "1.2.840.10008.1.2.4.6") ||
             uid == "1.2.840.10008.1.2.4.70") {
    check_coded_size(jpeg_frame_size(frame), h, path, "JPEG", "SOF");
  }
}

}  // namespace cxr
