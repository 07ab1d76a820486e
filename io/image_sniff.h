// What kind of image file a file is, told from its first kSniffBytes bytes, whatever its name:
// a PACS export names DICOM files by UID with no extension, and a ".jpg" can hold a PNG.
//   DICOM: "DICM" after the 128-byte preamble, or (no preamble) a data set that starts with a
//          plausible group 0002 or 0008 element in explicit or implicit VR little endian: an
//          even or undefined length, a known VR, and a second element in ascending order when
//          it lies within the bytes read. The SOP class (Media Storage SOP Class UID, else SOP
//          Class UID, when within those bytes) tells a DICOMDIR and the object classes that hold
//          no pixel data (structured reports, presentation states, encapsulated documents,
//          waveforms, raw data, RT plans and structures, ...); any other class is an image as
//          far as sniffing goes, and the reader has the last word.
//   PNG:   its 8-byte signature.   JPEG: FF D8 FF (SOI and the next marker's first byte).
// Cheap: one read of at most kSniffBytes bytes; nothing is parsed beyond them. Never throws.
#pragma once
#include <cstddef>
#include <string>

namespace cxr {

enum class ImageKind {
  NotImage,       // none of the signatures (text, other formats, empty files)
  Unreadable,     // could not be opened or read
  Dicom,
  DicomDir,       // a DICOMDIR: an index of other DICOM files
  DicomNonImage,  // a DICOM object of a class without pixel data
  Png,
  Jpeg,
};

constexpr size_t kSniffBytes = 4096;

ImageKind sniff_image_file(const std::string& path);

// The same from bytes already read (the first min(n, kSniffBytes) are looked at). `sop_class`,
// when given, receives the SOP class UID found for a DICOM file (empty when none was seen).
ImageKind sniff_image_bytes(const unsigned char* bytes, size_t n, std::string* sop_class = nullptr);

// Dicom, Png or Jpeg: a file read_image (image_reader.h) decodes.
inline bool is_image(ImageKind kind) {
  return kind == ImageKind::Dicom || kind == ImageKind::Png || kind == ImageKind::Jpeg;
}

// "DICOM", "DICOMDIR", "non-image DICOM", "PNG", "JPEG", "not an image", "unreadable".
const char* image_kind_name(ImageKind kind);

}  // namespace cxr
