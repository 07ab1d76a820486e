// Any supported image file — DICOM (dicom_reader.h), PNG (png_io.h) or JPEG (jpeg_reader.h) —
// by its contents (image_sniff.h); the extension is not trusted. `hints` lets a reader decode a
// smaller image when the caller will shrink it anyway (decode_hints.h; JPEG only).
//
// Failure modes: everything a file can cause is a UsageError naming the file and the reason
// (exit 2; left out under data.on_bad_file: skip): empty; neither DICOM, PNG nor JPEG; a
// DICOMDIR or a DICOM object of a class without pixel data; a declared size beyond
// `limits.max_image_pixels` or beyond what the file can hold, refused before the pixels are
// allocated; pixel data that does not fit the header; non-finite parameters; and any
// std::exception (std::bad_alloc included) a library throws while the file is read. The image
// returned has width × height values, every one finite and in [0, 1].
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "io/decode_hints.h"
#include "io/image.h"
#include "io/input_limits.h"

namespace cxr {

Image read_image(const std::string& path, const InputLimits& limits = {}, const DecodeHints& hints = {});

// Runs `read`, turning any std::exception other than cxr::Error into a UsageError naming `path`:
// whatever goes wrong while one file is read is that file's error.
Image read_as_file_error(const std::string& path, const std::function<Image()>& read);

// UsageError naming `path` unless width, height >= 1 and width × height (computed without
// overflow) is at most limits.max_image_pixels.
void check_declared_pixels(const std::string& path, int64_t width, int64_t height, const InputLimits& limits);

// a × b, or a UsageError naming `path` and `what` when the product overflows int64_t or a
// factor is negative.
int64_t checked_mul(int64_t a, int64_t b, const std::string& path, const char* what);

// UsageError naming `path` unless the image holds width × height values, all finite, in [0, 1].
void check_display_image(const std::string& path, const Image& image);

}  // namespace cxr
