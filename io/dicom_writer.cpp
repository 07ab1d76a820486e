#include "io/dicom_writer.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "io/dicom_messages.h"

#include "core/errors.h"

namespace cxr {
namespace {

void register_encoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK's JPEG encoder logs informational lines; failures arrive as conditions.
    route_dcmtk_messages();
    DJEncoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
  });
}

void put(DcmDataset* ds, const DcmTagKey& tag, const std::string& value) {
  if (ds->putAndInsertString(tag, value.c_str()).bad())
    throw RuntimeFailure("DCMTK: cannot set " + std::string(DcmTag(tag).getTagName()));
}

// A one-item code sequence (SNOMED CT, "SCT").
void add_code(DcmDataset* ds, const DcmTagKey& sequence, const char* value, const char* meaning) {
  DcmItem* item = nullptr;
  if (ds->findOrCreateSequenceItem(sequence, item, -2).bad() || !item)
    throw RuntimeFailure("DCMTK: cannot create " + std::string(DcmTag(sequence).getTagName()));
  item->putAndInsertString(DCM_CodeValue, value);
  item->putAndInsertString(DCM_CodingSchemeDesignator, "SCT");
  item->putAndInsertString(DCM_CodeMeaning, meaning);
}

}  // namespace

void write_dicom(const std::string& path, const Image& image, const DicomEncoding& e, const std::string& patient_id) {
  register_encoders();
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  char uid[100];
  const bool dx = e.modality == "DX";
  put(ds, DCM_SOPClassUID, dx ? UID_DigitalXRayImageStorageForPresentation : UID_ComputedRadiographyImageStorage);
  put(ds, DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  put(ds, DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  put(ds, DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  put(ds, DCM_Modality, e.modality);
  put(ds, DCM_PatientName, "Phantom^Synthetic");
  put(ds, DCM_PatientID, patient_id);
  put(ds, DCM_PatientBirthDate, "");
  put(ds, DCM_PatientSex, "O");
  put(ds, DCM_StudyDate, "20260101");
  put(ds, DCM_StudyTime, "120000");
  put(ds, DCM_AccessionNumber, "");
  put(ds, DCM_ReferringPhysicianName, "");
  put(ds, DCM_StudyID, "1");
  put(ds, DCM_SeriesNumber, "1");
  put(ds, DCM_InstanceNumber, "1");
  put(ds, DCM_Manufacturer, "cxrtune synthetic phantom");
  put(ds, DCM_BodyPartExamined, "CHEST");
  put(ds, DCM_ViewPosition, "PA");
  put(ds, DCM_PatientOrientation, "L\\F");
  put(ds, DCM_ImageLaterality, "B");
  put(ds, DCM_LossyImageCompression, "00");
  put(ds, DCM_ImagerPixelSpacing, "1.6\\1.6");  // a 41 cm chest on 256 pixels
  add_code(ds, DCM_AnatomicRegionSequence, "51185008", "Chest");
  add_code(ds, DCM_ViewCodeSequence, "399348003", "postero-anterior");
  if (dx) {
    put(ds, DCM_ImageType, "DERIVED\\PRIMARY");
    put(ds, DCM_PresentationIntentType, "FOR PRESENTATION");
    put(ds, DCM_PresentationLUTShape, e.monochrome1 ? "INVERSE" : "IDENTITY");
    put(ds, DCM_PixelIntensityRelationship, "LIN");
    // Bone (less beam reaching the detector) is bright in MONOCHROME2: higher values, less intensity.
    put(ds, DCM_PixelIntensityRelationshipSign, e.monochrome1 ? "1" : "-1");
    put(ds, DCM_DetectorType, "SCINTILLATOR");
    put(ds, DCM_PositionerType, "NONE");
    ds->insertEmptyElement(DCM_AcquisitionContextSequence);
  }
  put(ds, DCM_BurnedInAnnotation, "NO");
  put(ds, DCM_PhotometricInterpretation, e.monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(image.height));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(image.width));
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(e.bits_stored));
  ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(e.bits_stored - 1));
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  const double max = std::ldexp(1.0, e.bits_stored) - 1.0;
  put(ds, DCM_RescaleIntercept, std::to_string(static_cast<long long>(e.rescale_intercept)));
  put(ds, DCM_RescaleSlope, "1");
  put(ds, DCM_RescaleType, "US");
  // The window spans the stored range (in modality units), so the display image is the phantom.
  put(ds, DCM_WindowCenter, std::to_string(static_cast<long long>(std::lround(e.rescale_intercept + (max + 1) / 2))));
  put(ds, DCM_WindowWidth, std::to_string(static_cast<long long>(max + 1)));
  std::vector<Uint16> stored(image.pixels.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    const double v = std::clamp(static_cast<double>(image.pixels[i]), 0.0, 1.0);
    const double s = std::round((e.monochrome1 ? 1.0 - v : v) * max);
    stored[i] = static_cast<Uint16>(s);
  }
  if (ds->putAndInsertUint16Array(DCM_PixelData, stored.data(), static_cast<unsigned long>(stored.size())).bad())
    throw RuntimeFailure("DCMTK: cannot set pixel data for " + path);

  E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  if (e.compression == "rle") xfer = EXS_RLELossless;
  else if (e.compression == "jpeg-lossless") xfer = EXS_JPEGProcess14SV1;
  else if (e.compression == "jpeg-ls") xfer = EXS_JPEGLSLossless;
  else if (e.compression != "none") throw UsageError("unknown DICOM compression '" + e.compression + "'");
  if (xfer != EXS_LittleEndianExplicit) {
    const DcmRepresentationParameter* param = nullptr;
    DJ_RPLossless jpeg_lossless;
    DJLSRepresentationParameter jpegls(2, OFTrue);
    if (xfer == EXS_JPEGProcess14SV1) param = &jpeg_lossless;
    if (xfer == EXS_JPEGLSLossless) param = &jpegls;
    const OFCondition st = ds->chooseRepresentation(xfer, param);
    if (st.bad() || !ds->canWriteXfer(xfer))
      throw RuntimeFailure("DCMTK: cannot encode " + path + " as " + e.compression + " (" + st.text() + ")");
  }
  const OFCondition st = file.saveFile(path.c_str(), xfer);
  if (st.bad()) throw RuntimeFailure("DCMTK: cannot write " + path + " (" + st.text() + ")");
}

}  // namespace cxr
