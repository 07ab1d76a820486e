// PNG through libpng. Reading: 8- and 16-bit grey as v / (2^bits − 1); RGB, RGBA and palette
// images converted to grey with ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), alpha dropped.
// An sBIT chunk with fewer significant bits than the depth scales by those bits (values shifted
// up to the full depth, as the PNG spec has it, or left unshifted, as many writers store 12-bit
// data); a 16-bit image without sBIT that uses less than 1/8 of its range is read as it is, with
// one warning per run on stderr ("cxrtune: warning: ...").
// The IHDR size is checked before anything is allocated: against limits.max_image_pixels and
// against what the file's bytes can inflate to.
// Writing: 8- or 16-bit grey from [0, 1] values (the display image, demo data). Errors are
// UsageErrors naming the file; libpng's warnings are folded into them, never printed.
#pragma once
#include <cstdint>
#include <string>

#include "io/image.h"
#include "io/input_limits.h"

namespace cxr {

Image read_png(const std::string& path, const InputLimits& limits = {});
void write_png(const std::string& path, const Image& image, int bits);
// 8-bit RGB from `rgb` (height × width × 3 bytes, row-major): colour figures (Grad-CAM overlays).
// RuntimeFailure naming the path when it cannot be written.
void write_png_rgb(const std::string& path, int64_t width, int64_t height, const uint8_t* rgb);

}  // namespace cxr
