// Grad-CAM's files for one input under `--cam DIR`, named after the input's relative path
// (input_list.h) so that two 1.dcm in different folders do not collide:
//   DIR/<relative>.cam.npy  float32 [h, w]: the map at layer4's resolution, before upsampling
//                           and normalisation (io/npy_writer.h)
//   DIR/<relative>.cam.png  the overlay (io/overlay.h) on the image the model saw
// Parent folders are created. The display image is the model input taken back to [0, 1]: the
// preprocessed image (resized, centre-cropped, io/transforms.h) with ImageNet's normalisation
// undone on its first channel, so the map lies exactly over the pixels it was computed from.
#pragma once
#include <cstdint>
#include <string>

#include "io/image.h"

namespace cxr {

// `input`: one image of the batch, channels × size × size normalised floats (transforms.h).
Image display_from_input(const float* input, int64_t channels, int64_t size);

void write_cam_files(const std::string& cam_dir, const std::string& relative, const float* map, int64_t h, int64_t w,
                     const Image& display);

}  // namespace cxr
