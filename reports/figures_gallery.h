// The report's section "Where the model looks" (figures_gallery.cpp): RUN_DIR/gallery/, written
// at the end of training by predict/gallery.h, read here and never computed (reports/ does not
// link the engine). Reads gallery.json's known keys only — version, source, epoch, images,
// per_kind, items[{kind, class, probability, path, image}] — and each item's PNG, inlined as a
// data URI when images are allowed: `images` (report --no-images turns it off) and the
// gallery's own "images" (recipe report.images: false) must both be true. A PNG must be a file
// directly in gallery/ with a plain name, a PNG signature, at most 256 × 256 pixels and 1 MiB;
// anything else is refused naming the file. The section states whether images are included:
// pixel data can carry burned-in patient text.
// Failure modes: a malformed gallery.json or image → UsageError naming the file.
#pragma once
#include <string>

namespace cxr::report {

// Empty when the run has no gallery/gallery.json (older runs, or training without validation).
std::string gallery_figures(const std::string& run_dir, bool images);

}  // namespace cxr::report
