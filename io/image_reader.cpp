#include "io/image_reader.h"

#include <fstream>

#include "engine/errors.h"
#include "io/dicom_reader.h"
#include "io/png_io.h"

namespace cxr {

Image read_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot open image " + path);
  char head[132] = {0};
  in.read(head, sizeof head);
  const auto got = in.gcount();
  if (got >= 8 && static_cast<unsigned char>(head[0]) == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G')
    return read_png(path);
  if (got >= 132 && std::string(head + 128, 4) == "DICM") return read_dicom(path);
  // DICOM without the 128-byte preamble (raw dataset): let DCMTK try when the name says so.
  const std::string ext = path.size() > 4 ? path.substr(path.size() - 4) : "";
  if (ext == ".dcm" || ext == ".DCM") return read_dicom(path);
  throw UsageError(path + ": neither DICOM nor PNG");
}

}  // namespace cxr
