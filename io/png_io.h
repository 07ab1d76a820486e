// PNG through libpng. Reading: 8- and 16-bit grey as v / (2^bits − 1); RGB, RGBA and palette
// images converted to grey with ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), alpha dropped.
// Writing: 8- or 16-bit grey from [0, 1] values (the display image, demo data). Errors are
// UsageErrors naming the file.
#pragma once
#include <string>

#include "io/image.h"

namespace cxr {

Image read_png(const std::string& path);
void write_png(const std::string& path, const Image& image, int bits);

}  // namespace cxr
