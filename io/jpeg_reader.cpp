#include "io/jpeg_reader.h"

// jpeglib.h needs FILE and size_t declared before it.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <csetjmp>
#include <cstdint>
#include <fstream>
#include <new>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "core/errors.h"
#include "io/dicom_messages.h"
#include "io/image_reader.h"
#include "io/jpeg_dc_scan.h"

namespace cxr {
namespace {

// libjpeg's default error_exit prints and calls exit(); ours formats the message and longjmps
// back to guarded() below. The sink is plain data: nothing in it has a destructor to skip.
struct ErrorSink {
  jpeg_error_mgr mgr;  // first: libjpeg hands callbacks a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int code;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* sink = reinterpret_cast<ErrorSink*>(cinfo->err);
  sink->code = cinfo->err->msg_code;
  (*cinfo->err->format_message)(cinfo, sink->message);
  std::longjmp(sink->jump, 1);
}

// Warnings after which libjpeg goes on with pixels it made up (grey fill, zeroed coefficients).
bool means_damage(int code) {
  return code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
         code == JWRN_ARITH_BAD_CODE || code == JWRN_MUST_RESYNC;
}

// Returns before anything longjmps: its strings are destroyed normally.
void keep_warning(j_common_ptr cinfo) noexcept {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  try {
    library_message("libjpeg", text);
  } catch (...) {  // out of memory for a warning's text: the warning is dropped
  }
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output, for libjpeg's own debugging
  if (means_damage(cinfo->err->msg_code)) on_error(cinfo);
  keep_warning(cinfo);
}

void on_output(j_common_ptr) {}  // libjpeg never writes to stderr

// Runs one step of libjpeg calls. The only frame between this setjmp and libjpeg's longjmp is
// `step`'s, which must own no objects with destructors (callers pass lambdas capturing by
// reference). Returns false when libjpeg reported an error (sink.message says which).
template <class Step>
bool guarded(ErrorSink& sink, Step&& step) {
  if (setjmp(sink.jump)) return false;
  step();
  return true;
}

// One decompressor, destroyed whatever happens (jpeg_destroy frees libjpeg's pools).
class Decompressor {
 public:
  explicit Decompressor(const std::string& path) : path_(path) {
    std::memset(&cinfo, 0, sizeof cinfo);
    std::memset(&sink_, 0, sizeof sink_);
    cinfo.err = jpeg_std_error(&sink_.mgr);
    sink_.mgr.error_exit = on_error;
    sink_.mgr.emit_message = on_message;
    sink_.mgr.output_message = on_output;
    run([this] { jpeg_create_decompress(&cinfo); });
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  template <class Step>
  void run(Step&& step) {
    if (!guarded(sink_, step)) throw error();
  }

  jpeg_decompress_struct cinfo;

 private:
  UsageError error() const {
    if (sink_.code == JERR_BAD_PRECISION)
      return UsageError(path_ + ": " + sink_.message +
                        ": 12-bit JPEG cannot be read by this libjpeg-turbo (built for 8-bit samples); "
                        "convert the file to 16-bit PNG or DICOM");
    return UsageError(path_ + ": corrupt or unsupported JPEG: " + sink_.message);
  }

  std::string path_;
  ErrorSink sink_;
};

// Huffman coding spends at least one bit on every block of a scan, and every MCU holds a block of
// each component, so a file of n bytes encodes at most 8n MCUs. Arithmetic coding can spend far
// less on a flat image; its files are only held to the pixel limit.
void check_encodable(const std::string& path, const jpeg_decompress_struct& c, uint64_t file_bytes) {
  if (c.arith_code) return;
  const int64_t mcu_w = 8 * int64_t{c.max_h_samp_factor}, mcu_h = 8 * int64_t{c.max_v_samp_factor};
  const int64_t mcus = checked_mul((c.image_width + mcu_w - 1) / mcu_w, (c.image_height + mcu_h - 1) / mcu_h, path,
                                   "the number of JPEG blocks");
  if (static_cast<uint64_t>(mcus) > 8 * file_bytes)
    throw UsageError(path + ": declares a " + std::to_string(c.image_width) + "x" + std::to_string(c.image_height) +
                     " JPEG (" + std::to_string(mcus) + " coded blocks), more than its " + std::to_string(file_bytes) +
                     " bytes can encode");
}

std::string colour_name(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_GRAYSCALE: return "MONOCHROME2";
    case JCS_YCbCr: return "YCbCr";
    case JCS_RGB: return "RGB";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown";
  }
}

// Huffman coding spends at most 16 + 11 bits on a coefficient, 27 bits a pixel per component:
// three components and progressive refinement stay under 16 bytes a pixel, markers aside.
constexpr int64_t kMaxBytesPerPixel = 16;
constexpr int64_t kMarkerAllowance = int64_t{16} << 20;

std::string read_file(const std::string& path, const InputLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw UsageError("cannot open image " + path);
  const std::streamoff size = in.tellg();
  if (size < 0) throw UsageError("cannot read image " + path);
  const int64_t most = kMaxBytesPerPixel * std::min(limits.max_image_pixels, INT64_MAX / 32) + kMarkerAllowance;
  if (size > most)
    throw UsageError(path + ": " + std::to_string(size) + " bytes, more than a JPEG of at most " +
                     std::to_string(limits.max_image_pixels) + " pixels (data.max_image_pixels) can need");
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) throw UsageError("cannot read image " + path);
  return bytes;
}

// Whether the file's marker structure runs from SOI to an EOI: segments skipped by their lengths,
// entropy-coded data to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
// The DC-only decode below leaves the last scans to this check instead of decoding them, so a
// truncated file is refused on that path as on the full one (damage inside a skipped scan's
// entropy data goes unseen there: the pixels returned never depend on it).
bool reaches_eoi(const std::string& bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 2;  // after SOI
  while (i + 1 < n) {
    if (b[i] != 0xFF) {  // stray bytes between segments: libjpeg skips them with a warning too
      const void* ff = std::memchr(b + i, 0xFF, n - i);
      if (!ff) return false;
      i = static_cast<size_t>(static_cast<const unsigned char*>(ff) - b);
      continue;
    }
    const unsigned m = b[i + 1];
    if (m == 0xFF) {  // fill byte before a marker
      ++i;
      continue;
    }
    if (m == 0xD9) return true;
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
      i += 2;
      continue;
    }
    if (i + 3 >= n) return false;
    i += 2 + (size_t{b[i + 2]} << 8 | b[i + 3]);
    if (m != 0xDA) continue;
    for (;;) {  // a scan's entropy-coded data
      if (i >= n) return false;
      const void* ff = std::memchr(b + i, 0xFF, n - i);
      if (!ff) return false;
      i = static_cast<size_t>(static_cast<const unsigned char*>(ff) - b);
      if (i + 1 >= n) return false;
      const unsigned next = b[i + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) i += 2;
      else if (next == 0xFF) i += 1;
      else break;
    }
  }
  return false;
}

// Progressive only: whether every component's DC coefficients are complete (all their bits in).
bool dc_complete(const jpeg_decompress_struct& c) {
  for (int ci = 0; ci < c.num_components; ++ci)
    if (c.coef_bits[ci][0] != 0) return false;
  return true;
}

// A 1/8 decode whose every component is scaled by 8 runs the 1×1 IDCT, which reads the DC
// coefficient alone. A progressive file sends DC in its first scans and AC after them, so once DC
// is complete the rest of the file cannot change a pixel: the output pass starts there.
bool dc_is_enough(jpeg_decompress_struct& c) {
  if (!c.progressive_mode || c.scale_denom != 8) return false;
  jpeg_calc_output_dimensions(&c);
  for (int ci = 0; ci < c.num_components; ++ci)
    if (c.comp_info[ci].DCT_scaled_size != 1) return false;  // subsampled chroma: a larger IDCT
  return true;
}

// The decoded samples (grey or RGB rows, c.output_components each) as the display image, with
// the facts `inspect` prints; `how` completes the DCT-scaling note (which scans, which decoder).
Image display_image(const std::vector<unsigned char>& data, const jpeg_decompress_struct& c, int reduction,
                    const char* decoder, const std::string& how) {
  const auto width = static_cast<int64_t>(c.output_width), height = static_cast<int64_t>(c.output_height);
  const bool grey = c.num_components == 1;
  const unsigned char* base = data.data();
  Image img;
  img.width = width;
  img.height = height;
  img.facts.format = "jpeg";
  img.facts.decoder = decoder;
  img.facts.bits_stored = c.data_precision;
  img.facts.photometric = colour_name(c.jpeg_color_space);
  img.facts.transfer_syntax = std::string("JPEG ") + (c.progressive_mode ? "progressive" : "sequential") +
                              (c.arith_code ? ", arithmetic" : ", Huffman");
  img.facts.voi = std::string("none (jpeg") + (grey ? "" : "; RGB to ITU-R 601 luma") +
                  (reduction > 1 ? "; DCT-scaled 1/" + std::to_string(reduction) + " from " + std::to_string(c.image_width) +
                                       "x" + std::to_string(c.image_height) + how
                                 : "") +
                  ")";
  const size_t n = static_cast<size_t>(width * height);
  img.pixels.resize(n);
  if (grey) {
    float level[256];
    for (int v = 0; v < 256; ++v) level[v] = static_cast<float>(v / 255.0);
    for (size_t p = 0; p < n; ++p) img.pixels[p] = level[data[p]];
  } else {
    // The PNG reader's conversion (png_io.cpp), term for term, so both formats agree.
    for (size_t p = 0; p < n; ++p) {
      const unsigned char* rgb = base + 3 * p;
      const double v = 0.299 * static_cast<double>(rgb[0]) + 0.587 * static_cast<double>(rgb[1]) +
                       0.114 * static_cast<double>(rgb[2]);
      img.pixels[p] = static_cast<float>(std::min(1.0, v / 255.0));
    }
  }
  return img;
}

// A one-component sequential Huffman scan of 8-bit samples read at 1/8 (the 1×1 IDCT): what
// io/jpeg_dc_scan.h decodes without libjpeg's block machinery. Call after jpeg_read_header, which
// stops at the first SOS with its tables read; false for anything else.
bool fill_dc_scan(jpeg_decompress_struct& c, DcScan& scan) {
  if (c.progressive_mode || c.arith_code || c.num_components != 1 || c.comps_in_scan != 1 || c.data_precision != 8 ||
      c.scale_denom != 8 || c.Ss != 0 || c.Se != DCTSIZE2 - 1 || c.Ah != 0 || c.Al != 0)
    return false;
  jpeg_calc_output_dimensions(&c);
  const jpeg_component_info& comp = *c.cur_comp_info[0];
  if (comp.DCT_scaled_size != 1 || comp.quant_tbl_no < 0 || comp.quant_tbl_no >= NUM_QUANT_TBLS) return false;
  const JQUANT_TBL* quant = c.quant_tbl_ptrs[comp.quant_tbl_no];
  const JHUFF_TBL* dc = c.dc_huff_tbl_ptrs[comp.dc_tbl_no];
  const JHUFF_TBL* ac = c.ac_huff_tbl_ptrs[comp.ac_tbl_no];
  if (!quant || !dc || !ac) return false;  // Motion-JPEG's implied tables: libjpeg supplies them
  scan.width = c.image_width;
  scan.height = c.image_height;
  scan.restart_interval = c.restart_interval;
  scan.dc_quantizer = quant->quantval[0];
  scan.dc_counts = dc->bits;
  scan.dc_symbols = dc->huffval;
  scan.ac_counts = ac->bits;
  scan.ac_symbols = ac->huffval;
  scan.data = c.src->next_input_byte;
  scan.size = c.src->bytes_in_buffer;
  return true;
}

Image decode(const std::string& path, const InputLimits& limits, const DecodeHints& hints) {
  // The whole file in one read: libjpeg's stdio source would read it 4 KiB at a time.
  const std::string bytes = read_file(path, limits);
  Decompressor d(path);
  jpeg_decompress_struct& c = d.cinfo;
  d.run([&] {
    jpeg_mem_src(&c, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&c, TRUE);
  });
  check_declared_pixels(path, c.image_width, c.image_height, limits);
  check_encodable(path, c, bytes.size());
  const bool grey = c.num_components == 1;
  if (!grey && c.jpeg_color_space != JCS_YCbCr && c.jpeg_color_space != JCS_RGB)
    throw UsageError(path + ": " + colour_name(c.jpeg_color_space) + " JPEG is not supported (greyscale, YCbCr or RGB)");
  c.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  const int reduction = jpeg_reduction(c.image_width, c.image_height, hints.smallest_side);
  c.scale_num = 1;
  c.scale_denom = static_cast<unsigned>(reduction);
  DcScan scan;
  std::vector<unsigned char> dc_pixels;
  bool dc_scan = false;
  d.run([&] { dc_scan = fill_dc_scan(c, scan); });
  if (dc_scan && decode_dc_scan(scan, dc_pixels))
    return display_image(dc_pixels, c, reduction, "libjpeg-turbo headers, cxrtune DC scan decoder", ", DC coefficients only");
  bool dc_only = false;
  d.run([&] { dc_only = dc_is_enough(c); });
  if (dc_only) {
    if (!reaches_eoi(bytes))
      throw UsageError(path + ": corrupt or unsupported JPEG: Premature end of JPEG file (no EOI marker after the scans)");
    c.buffered_image = TRUE;
    c.do_block_smoothing = FALSE;  // smoothing would estimate AC from DC: the full decode has none
  }
  d.run([&] {
    jpeg_start_decompress(&c);
    if (!dc_only) return;
    for (;;) {
      const int r = jpeg_consume_input(&c);
      if (r == JPEG_REACHED_EOI || (r == JPEG_SCAN_COMPLETED && dc_complete(c))) break;
      if (r == JPEG_SUSPENDED) ERREXIT(&c, JERR_INPUT_EMPTY);  // a memory source never suspends
    }
    jpeg_start_output(&c, c.input_scan_number);
  });

  const auto width = static_cast<int64_t>(c.output_width), height = static_cast<int64_t>(c.output_height);
  const int64_t channels = c.output_components;
  const int64_t row_bytes = checked_mul(width, channels, path, "the JPEG row size");
  std::vector<unsigned char> data(static_cast<size_t>(checked_mul(row_bytes, height, path, "the decoded JPEG size")));
  unsigned char* base = data.data();
  d.run([&] {
    while (c.output_scanline < c.output_height) {
      JSAMPROW rows[8];
      const JDIMENSION first = c.output_scanline;
      const JDIMENSION n = std::min<JDIMENSION>(8, c.output_height - first);
      for (JDIMENSION i = 0; i < n; ++i) rows[i] = base + static_cast<size_t>(first + i) * static_cast<size_t>(row_bytes);
      jpeg_read_scanlines(&c, rows, n);
    }
    // The DC-only decode stops here: finishing would decode the AC scans it skips.
    if (!dc_only) jpeg_finish_decompress(&c);
  });

  return display_image(data, c, reduction, "libjpeg-turbo", dc_only ? ", DC scans only" : "");
}

}  // namespace

int jpeg_reduction(int64_t width, int64_t height, int64_t smallest_side) {
  if (smallest_side <= 0) return 1;
  const int64_t shorter = std::min(width, height);
  // The largest reduction whose decoded shorter side (libjpeg rounds up) still reaches the target,
  // the scale Pillow's Image.draft picks: the DCT-domain reduction is itself an 8-, 4- or 2-pixel
  // average, and the antialiased resize after it still spans at least one decoded pixel per
  // output pixel (support ≥ 1), so every decoded pixel counts.
  for (const int r : {8, 4, 2})
    if ((shorter + r - 1) / r >= smallest_side) return r;
  return 1;
}

Image read_jpeg(const std::string& path, const InputLimits& limits, const DecodeHints& hints) {
  LibraryMessages messages;
  try {
    return read_as_file_error(path, [&] { return decode(path, limits, hints); });
  } catch (const UsageError& e) {
    throw UsageError(e.what() + messages.suffix());
  }
}

}  // namespace cxr
