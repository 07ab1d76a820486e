// The report's gallery "Where the model looks", computed at the end of training (reports/ never
// links the engine, so the job computes the overlays and the report only inlines them): the
// validation set is scored with the best checkpoint, the most confident false positives, false
// negatives and true positives are chosen (gallery_selection.h) and each gets a Grad-CAM overlay
// (grad_cam.h, io/overlay.h) for the class it was judged on, scaled to fit `max_side` pixels.
// Writes RUN_DIR/gallery/:
//   gallery.json  {"version": 1, "source": "validation set, best checkpoint", "epoch": E,
//                  "checkpoint": "checkpoints/best.safetensors", "images": true|false,
//                  "per_kind": N, "classes": [...], "items": [{"kind", "class", "probability",
//                  "path" (relative to the data root, as predictions.csv), "image" ("NN.png" in
//                  gallery/, or null)}]}
//   NN.png        the overlays, only when images is true
// images false (recipe report.images: false): pixel data can carry burned-in patient text, so
// no PNG is written and the report shows the table only. The folder is replaced as a whole.
#pragma once
#include <cstdint>
#include <string>

#include "io/dataset.h"
#include "job/checkpoint_model.h"

namespace cxr {

struct GalleryOptions {
  int64_t per_kind = 8;
  int64_t max_side = 256;
  bool images = true;
};

void write_gallery(CheckpointModel& best, const Dataset& val, const std::string& run_dir, const GalleryOptions& options = {});

}  // namespace cxr
