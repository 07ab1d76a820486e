// JPEG (JFIF/Exif; baseline, extended and progressive; Huffman or arithmetic coded) through
// libjpeg-turbo into the display image of docs/images.md. Greyscale as v / 255; colour (YCbCr or
// RGB) decoded to RGB by libjpeg and converted with ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B,
// exactly as the PNG reader does (png_io.h). No window: a JPEG holds display values already.
//
// With hints.smallest_side > 0 the image is decoded at 1/2, 1/4 or 1/8 of its size in the DCT
// domain (jpeg_reduction below, Pillow's draft scale) and returned at that size; the caller's
// antialiased resize (transforms.h) does the rest. ImageFacts.voi says what was done. A
// progressive file decoded at 1/8 (greyscale, or colour without chroma subsampling) is read only
// up to the end of its DC scans — the 1/8 pixels depend on nothing else, so they are the same
// bits as the full 1/8 decode's — after a walk of the file's markers has found its EOI (a
// truncated file is refused as on the full path; damage inside the skipped AC data is not seen).
//
// Failure modes, all UsageErrors naming the file and the reason (exit 2): not a JPEG; a
// declared size beyond limits.max_image_pixels or beyond what the file's bytes can encode,
// refused before decoding allocates; 12-bit JPEG (Debian's libjpeg62-turbo is built for 8-bit
// samples only); lossless JPEG (SOF3, unsupported by libjpeg-turbo 2.1); CMYK/YCCK; and every
// libjpeg error: truncated or corrupt entropy data, bad tables, garbage. Warnings that mean
// pixels are missing or wrong (premature end of file or of a data segment, bad codes, lost
// sync) are errors too: libjpeg would otherwise return an image padded with grey. libjpeg never
// prints and never exits: its other warnings go to this thread's LibraryMessages capture
// (dicom_messages.h) and appear only in an error message. Thread-safe.
#pragma once
#include <cstdint>
#include <string>

#include "io/decode_hints.h"
#include "io/image.h"
#include "io/input_limits.h"

namespace cxr {

Image read_jpeg(const std::string& path, const InputLimits& limits = {}, const DecodeHints& hints = {});

// The DCT-domain reduction (1, 2, 4 or 8) for a width × height JPEG whose shorter side will be
// resized to `smallest_side` (0: none wanted, 1): the largest whose decoded shorter side is at
// least `smallest_side`.
int jpeg_reduction(int64_t width, int64_t height, int64_t smallest_side);

}  // namespace cxr
