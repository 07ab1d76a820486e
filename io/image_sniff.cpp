#include "io/image_sniff.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace cxr {
namespace {

uint16_t u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t u32(const unsigned char* p) { return static_cast<uint32_t>(u16(p)) | static_cast<uint32_t>(u16(p + 2)) << 16; }

constexpr uint32_t kUndefined = 0xFFFFFFFFu;
// No element of groups 0002 or 0008 comes near this; a text or binary file that happens to
// start with 02 00 or 08 00 usually declares far more.
constexpr uint32_t kMaxPlausibleLength = 1u << 24;

struct Element {
  uint16_t group = 0, element = 0;
  size_t value = 0;  // offset of the value
  uint32_t length = 0;
};

// The VRs whose explicit form has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2).
bool long_form(const char* vr) {
  static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  return std::any_of(std::begin(kLong), std::end(kLong), [&](const char* v) { return std::strncmp(v, vr, 2) == 0; });
}

bool known_vr(const char* vr) {
  static const char* const kShort[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                                       "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
  return long_form(vr) ||
         std::any_of(std::begin(kShort), std::end(kShort), [&](const char* v) { return std::strncmp(v, vr, 2) == 0; });
}

// One little-endian element at `pos`, explicit VR when the two bytes after the tag are a known
// VR, implicit otherwise. False when the header does not fit in `n` bytes or is implausible.
bool element_at(const unsigned char* b, size_t n, size_t pos, Element& e) {
  if (pos + 8 > n) return false;
  e.group = u16(b + pos);
  e.element = u16(b + pos + 2);
  const char vr[2] = {static_cast<char>(b[pos + 4]), static_cast<char>(b[pos + 5])};
  bool may_be_undefined = true;
  if (known_vr(vr)) {
    if (long_form(vr)) {
      if (pos + 12 > n || b[pos + 6] != 0 || b[pos + 7] != 0) return false;
      e.length = u32(b + pos + 8);
      e.value = pos + 12;
      may_be_undefined = vr[0] == 'S' || vr[0] == 'U' || vr[1] == 'B' || vr[1] == 'W';  // SQ, UN, OB, OW
    } else {
      e.length = u16(b + pos + 6);
      e.value = pos + 8;
      may_be_undefined = false;
    }
  } else {
    e.length = u32(b + pos + 4);
    e.value = pos + 8;
  }
  if (e.length == kUndefined) return may_be_undefined;
  return e.length % 2 == 0 && e.length < kMaxPlausibleLength;
}

uint32_t tag_of(const Element& e) { return static_cast<uint32_t>(e.group) << 16 | e.element; }

// A data set without preamble: a plausible first element of group 0002 or 0008 and, when the
// bytes hold it, a plausible second element after it in tag order.
bool preambleless_dicom(const unsigned char* b, size_t n) {
  Element first, second;
  if (!element_at(b, n, 0, first) || (first.group != 0x0002 && first.group != 0x0008)) return false;
  if (first.length == kUndefined || first.value + first.length + 8 > n) return true;
  return element_at(b, n, first.value + first.length, second) && tag_of(second) > tag_of(first) && second.group % 2 == 0;
}

// Media Storage SOP Class UID (0002,0002), else SOP Class UID (0008,0016), from the elements
// that lie wholly within the bytes read; empty when neither does.
std::string sop_class_uid(const unsigned char* b, size_t n, size_t pos) {
  std::string meta_class, sop_class;
  Element e;
  while (element_at(b, n, pos, e) && e.length != kUndefined && e.value + e.length <= n && tag_of(e) <= 0x00080016u) {
    std::string value(reinterpret_cast<const char*>(b + e.value), e.length);
    while (!value.empty() && (value.back() == '\0' || value.back() == ' ')) value.pop_back();
    if (tag_of(e) == 0x00020002u) meta_class = value;
    if (tag_of(e) == 0x00080016u) sop_class = value;
    pos = e.value + e.length;
  }
  return meta_class.empty() ? sop_class : meta_class;
}

constexpr const char* kDicomDirClass = "1.2.840.10008.1.3.10";

// SOP class roots (PS3.4 annex B and PS3.6 annex A) whose objects hold no pixel data a
// radiograph classifier could use.
bool non_image_class(const std::string& uid) {
  static const char* const kRoots[] = {
      "1.2.840.10008.5.1.4.1.1.88",   // structured reports, key object selection
      "1.2.840.10008.5.1.4.1.1.11",   // presentation states
      "1.2.840.10008.5.1.4.1.1.104",  // encapsulated PDF, CDA, STL, ...
      "1.2.840.10008.5.1.4.1.1.9",    // waveforms (ECG, audio, ...)
      "1.2.840.10008.5.1.4.1.1.66",   // raw data, registrations, fiducials, segmentations
      "1.2.840.10008.5.1.4.1.1.67",   // real world value mapping
      "1.2.840.10008.5.1.4.1.1.481",  // RT dose, structure sets, plans, records (not RT Image)
      "1.2.840.10008.5.1.4.34",       // RT treatment records and plans, second generation
      "1.2.840.10008.5.1.4.38",       // hanging protocols
      "1.2.840.10008.5.1.4.39",       // colour palettes
  };
  if (uid == "1.2.840.10008.5.1.4.1.1.481.1") return false;  // RT Image: a radiograph
  for (const char* root : kRoots) {
    const size_t len = std::strlen(root);
    if (uid.compare(0, len, root) == 0 && (uid.size() == len || uid[len] == '.')) return true;
  }
  return false;
}

}  // namespace

ImageKind sniff_image_bytes(const unsigned char* b, size_t n, std::string* sop_class) {
  n = std::min(n, kSniffBytes);
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (n >= 8 && std::memcmp(b, kPng, 8) == 0) return ImageKind::Png;
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageKind::Jpeg;
  size_t start = 0;
  if (n >= 132 && std::memcmp(b + 128, "DICM", 4) == 0)
    start = 132;
  else if (!preambleless_dicom(b, n))
    return ImageKind::NotImage;
  const std::string uid = sop_class_uid(b, n, start);
  if (sop_class) *sop_class = uid;
  if (uid == kDicomDirClass) return ImageKind::DicomDir;
  if (non_image_class(uid)) return ImageKind::DicomNonImage;
  return ImageKind::Dicom;
}

ImageKind sniff_image_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ImageKind::Unreadable;
  unsigned char head[kSniffBytes];
  in.read(reinterpret_cast<char*>(head), sizeof head);
  if (in.bad()) return ImageKind::Unreadable;
  return sniff_image_bytes(head, static_cast<size_t>(in.gcount()));
}

const char* image_kind_name(ImageKind kind) {
  switch (kind) {
    case ImageKind::NotImage: return "not an image";
    case ImageKind::Unreadable: return "unreadable";
    case ImageKind::Dicom: return "DICOM";
    case ImageKind::DicomDir: return "DICOMDIR";
    case ImageKind::DicomNonImage: return "non-image DICOM";
    case ImageKind::Png: return "PNG";
    case ImageKind::Jpeg: return "JPEG";
  }
  return "not an image";
}

}  // namespace cxr
