// Any supported image file by its contents (DICOM preamble "DICM" or PNG signature); the
// extension is not trusted. UsageError naming the file for anything else.
#pragma once
#include <string>

#include "io/image.h"

namespace cxr {

Image read_image(const std::string& path);

}  // namespace cxr
