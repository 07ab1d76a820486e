#include "io/dicom_reader.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <filesystem>
#include <limits>
#include <mutex>

#include "core/errors.h"
#include "io/dicom_header.h"
#include "io/dicom_messages.h"
#include "io/dicom_pixel_checks.h"
#include "io/dicom_structure.h"
#include "io/gdcm_decoder.h"
#include "io/image_reader.h"

namespace cxr {
namespace {

// DCMTK's decoders are process-wide registrations; do them once, thread-safely. DCMTK's own
// log lines would interleave with cxrtune's output: they are captured per file and folded into
// that file's error message (dicom_messages.h).
void register_decoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    route_dcmtk_messages();
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

// Min–max of the modality values over pixels outside [pad_lo, pad_hi] (modality units).
template <typename T>
bool min_max_without(const void* data, size_t count, double pad_lo, double pad_hi, double& lo, double& hi) {
  const auto* p = static_cast<const T*>(data);
  lo = std::numeric_limits<double>::infinity();
  hi = -lo;
  for (size_t i = 0; i < count; ++i) {
    const auto v = static_cast<double>(p[i]);
    if (v >= pad_lo && v <= pad_hi) continue;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  return lo <= hi;
}

// DCMTK ignores Pixel Padding Value; without a window the padding (often the extreme value)
// would stretch the min–max range, so the window is computed here as DCMTK's
// setMinMaxWindow would compute it over the other pixels.
bool set_min_max_without_padding(DicomImage& image, const DicomHeader& h) {
  const DiPixel* inter = image.getInterData();
  if (!inter || !h.display.padding || h.modality_lut_sequence) return false;
  const double a = h.display.padding->first * h.display.slope + h.display.intercept;
  const double b = h.display.padding->second * h.display.slope + h.display.intercept;
  const size_t count = static_cast<size_t>(h.rows * h.columns);
  const double pl = std::min(a, b), ph = std::max(a, b);
  double lo = 0, hi = 0;
  bool ok = false;
  switch (inter->getRepresentation()) {
    case EPR_Uint8: ok = min_max_without<Uint8>(inter->getData(), count, pl, ph, lo, hi); break;
    case EPR_Sint8: ok = min_max_without<Sint8>(inter->getData(), count, pl, ph, lo, hi); break;
    case EPR_Uint16: ok = min_max_without<Uint16>(inter->getData(), count, pl, ph, lo, hi); break;
    case EPR_Sint16: ok = min_max_without<Sint16>(inter->getData(), count, pl, ph, lo, hi); break;
    case EPR_Uint32: ok = min_max_without<Uint32>(inter->getData(), count, pl, ph, lo, hi); break;
    case EPR_Sint32: ok = min_max_without<Sint32>(inter->getData(), count, pl, ph, lo, hi); break;
  }
  return ok && image.setWindow((lo + hi + 1) / 2, hi - lo + 1);
}

Image render_with_dcmtk(DcmFileFormat& file, const DicomHeader& h, const std::string& path) {
  DicomImage image(&file, file.getDataset()->getOriginalXfer(), CIF_MayDetachPixelData);
  if (image.getStatus() != EIS_Normal)
    throw UsageError(path + ": cannot decode the image (" + DicomImage::getString(image.getStatus()) + ")");
  Image img;
  img.facts = h.facts;
  img.facts.decoder = "dcmtk";
  if (image.getWindowCount() > 0) {
    image.setWindow(0);
    double center = 0, width = 0;
    image.getWindow(center, width);
    img.facts.voi = window_label(center, width);
  } else if (image.getVoiLutCount() > 0) {
    image.setVoiLut(0);
    img.facts.voi = "voi lut";
  } else {
    if (!set_min_max_without_padding(image, h)) image.setMinMaxWindow();
    img.facts.voi = "min-max";
  }
  img.width = static_cast<int64_t>(image.getWidth());
  img.height = static_cast<int64_t>(image.getHeight());
  if (img.width != h.columns || img.height != h.rows) throw UsageError(path + ": decoded size differs from the header");
  // 16-bit display output: DCMTK has applied the modality LUT, the VOI and, for MONOCHROME1,
  // the inversion that makes bone bright.
  const auto* out = static_cast<const Uint16*>(image.getOutputData(16));
  if (!out) throw UsageError(path + ": cannot render the display image (truncated or corrupt pixel data?)");
  img.pixels.resize(static_cast<size_t>(img.width * img.height));
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<float>(out[i]) / 65535.0f;
  return img;
}

Image render_cells(const StoredCells& cells, int64_t width, int64_t height, const DicomHeader& h, const std::string& path,
                   const char* decoder) {
  if (width != h.columns || height != h.rows) throw UsageError(path + ": decoded size differs from the header");
  try {
    DisplayResult shown = cells_to_display(cells, h.display);
    Image img;
    img.facts = h.facts;
    img.facts.decoder = decoder;
    img.facts.voi = shown.voi;
    img.width = width;
    img.height = height;
    img.pixels = std::move(shown.pixels);
    return img;
  } catch (const UsageError& e) {
    throw UsageError(path + ": " + e.what());
  }
}

// DCMTK decodes (decompressing in place when needed) and cxrtune's table-driven pipeline
// renders straight from DCMTK's pixel buffer: several times faster than DicomImage, which
// builds intermediate copies of a 5-Mpixel film.
Image render_with_dcmtk_decoder(DcmDataset& ds, const DicomHeader& h, const std::string& path) {
  if (ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() || !ds.canWriteXfer(EXS_LittleEndianExplicit))
    throw UsageError(path + ": cannot decode the pixel data (" + DcmXfer(ds.getOriginalXfer()).getXferName() + ")");
  Uint16 bits_allocated = 0;
  ds.findAndGetUint16(DCM_BitsAllocated, bits_allocated);
  StoredCells cells;
  cells.count = static_cast<size_t>(h.rows * h.columns);
  cells.bits_allocated = bits_allocated;
  cells.bits_stored = h.facts.bits_stored;
  cells.is_signed = h.facts.is_signed;
  unsigned long length = 0;
  if (bits_allocated == 8) {
    const Uint8* data = nullptr;
    if (ds.findAndGetUint8Array(DCM_PixelData, data, &length).bad() || !data || length < cells.count)
      throw UsageError(path + ": pixel data shorter than the image size (truncated?)");
    cells.data = data;
  } else if (bits_allocated == 16) {
    const Uint16* data = nullptr;
    if (ds.findAndGetUint16Array(DCM_PixelData, data, &length).bad() || !data || length < cells.count)
      throw UsageError(path + ": pixel data shorter than the image size (truncated?)");
    cells.data = data;
  } else {
    throw UsageError(path + ": " + std::to_string(bits_allocated) + " bits allocated is not supported (8 or 16)");
  }
  return render_cells(cells, h.columns, h.rows, h, path, "dcmtk");
}

Image render_with_gdcm(const DicomHeader& h, const std::string& path, const InputLimits& limits) {
  if (h.modality_lut_sequence)
    throw UsageError(path + ": a Modality LUT Sequence is not supported with JPEG 2000 (only Rescale Slope/Intercept)");
  const DecodedFrame frame = decode_with_gdcm(path, limits);
  return render_cells(frame.cells(), frame.width, frame.height, h, path, "gdcm");
}

}  // namespace

Image read_dicom(const std::string& path, DicomDecoder decoder, const InputLimits& limits) {
  register_decoders();
  LibraryMessages messages;
  try {
    return read_as_file_error(path, [&] {
      // Before DCMTK's recursive parser sees the file: a deep nest would overflow the stack.
      check_sequence_nesting(path);
      DcmFileFormat file;
      const OFCondition status = file.loadFile(path.c_str());
      if (status.bad()) throw UsageError(path + ": not a readable DICOM file (" + status.text() + ")");
      DcmDataset& ds = *file.getDataset();
      const DicomHeader header = read_dicom_header(ds, path, limits);
      std::error_code ec;
      const auto file_bytes = std::filesystem::file_size(path, ec);
      check_pixel_data(ds, header, path, ec ? 0 : file_bytes);
      Image img;
      if (decoder == DicomDecoder::Gdcm || header.jpeg2000)
        img = render_with_gdcm(header, path, limits);
      else if (decoder == DicomDecoder::DcmtkRenderer || header.modality_lut_sequence)
        img = render_with_dcmtk(file, header, path);  // the Modality LUT Sequence: DCMTK's renderer only
      else
        img = render_with_dcmtk_decoder(ds, header, path);
      check_display_image(path, img);
      return img;
    });
  } catch (const UsageError& e) {
    throw UsageError(e.what() + messages.suffix());
  }
}

}  // namespace cxr
