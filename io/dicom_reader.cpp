#include "io/dicom_reader.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <mutex>

#include "engine/errors.h"

namespace cxr {
namespace {

// DCMTK's decoders are process-wide registrations; do them once, thread-safely.
void register_decoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

std::string get_string(DcmDataset* ds, const DcmTagKey& tag) {
  OFString v;
  return ds->findAndGetOFString(tag, v).good() ? std::string(v.c_str()) : std::string();
}

}  // namespace

Image read_dicom(const std::string& path) {
  register_decoders();
  DcmFileFormat file;
  const OFCondition status = file.loadFile(path.c_str());
  if (status.bad()) throw UsageError(path + ": not a readable DICOM file (" + status.text() + ")");
  DcmDataset* ds = file.getDataset();
  if (!ds->tagExists(DCM_PixelData)) throw UsageError(path + ": DICOM object has no image (no Pixel Data)");
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
    throw UsageError(path + ": multi-frame DICOM (" + std::to_string(frames) + " frames) is not a chest X-ray film");
  Uint16 samples = 1;
  ds->findAndGetUint16(DCM_SamplesPerPixel, samples);
  const std::string photometric = get_string(ds, DCM_PhotometricInterpretation);
  if (samples != 1 || (photometric != "MONOCHROME1" && photometric != "MONOCHROME2"))
    throw UsageError(path + ": colour DICOM (" + (photometric.empty() ? "no photometric" : photometric) +
                     ") is not supported: cxrtune reads greyscale radiographs");
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  if (xfer == EXS_JPEG2000 || xfer == EXS_JPEG2000LosslessOnly)
    throw UsageError(path + ": JPEG 2000 DICOM is not supported yet (DCMTK cannot decode it)");

  Image img;
  img.facts.format = "dicom";
  img.facts.modality = get_string(ds, DCM_Modality);
  img.facts.photometric = photometric;
  img.facts.transfer_syntax = DcmXfer(xfer).getXferName();
  Uint16 bits = 0, repr = 0;
  ds->findAndGetUint16(DCM_BitsStored, bits);
  ds->findAndGetUint16(DCM_PixelRepresentation, repr);
  img.facts.bits_stored = bits;
  img.facts.is_signed = repr == 1;
  Float64 slope = 1, intercept = 0;
  if (ds->findAndGetFloat64(DCM_RescaleSlope, slope).good()) img.facts.rescale_slope = slope;
  if (ds->findAndGetFloat64(DCM_RescaleIntercept, intercept).good()) img.facts.rescale_intercept = intercept;

  DicomImage image(&file, xfer, CIF_MayDetachPixelData);
  if (image.getStatus() != EIS_Normal)
    throw UsageError(path + ": cannot decode the image (" + DicomImage::getString(image.getStatus()) + ")");
  if (image.getWindowCount() > 0) {
    image.setWindow(0);
    double center = 0, width = 0;
    image.getWindow(center, width);
    img.facts.voi = "window " + std::to_string(static_cast<long long>(center)) + "/" +
                    std::to_string(static_cast<long long>(width));
  } else if (image.getVoiLutCount() > 0) {
    image.setVoiLut(0);
    img.facts.voi = "voi lut";
  } else {
    image.setMinMaxWindow();
    img.facts.voi = "min-max";
  }
  img.width = static_cast<int64_t>(image.getWidth());
  img.height = static_cast<int64_t>(image.getHeight());
  // 16-bit display output: DCMTK has applied the modality LUT, the VOI and, for MONOCHROME1,
  // the inversion that makes bone bright.
  const auto* out = static_cast<const Uint16*>(image.getOutputData(16));
  if (!out) throw UsageError(path + ": cannot render the display image");
  img.pixels.resize(static_cast<size_t>(img.width * img.height));
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<float>(out[i]) / 65535.0f;
  return img;
}

}  // namespace cxr
