// The pieces of predict on hand-made values: the .npy writer (read back by NumPy), the colour
// map's table (its published endpoints), bilinear upsampling (against torch's F.interpolate with
// align_corners=False, and by hand), the overlay (size, legend bar, label pixels, blend), the
// Grad-CAM arithmetic, and the scoring rules.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/errors.h"
#include "io/colormap.h"
#include "io/npy_writer.h"
#include "io/overlay.h"
#include "predict/grad_cam.h"
#include "predict/scoring.h"
#include "predict_fixtures.h"

namespace cxr::test {
namespace {

TEST(Npy, NumpyReadsWhatIsWritten) {
  const fs::path d = fresh_dir("npy");
  const std::vector<float> v{0.5f, -1.25f, 3e-8f, 7.0f, 1e30f, 0.0f};
  write_npy_f32((d / "a.npy").string(), {2, 3}, v.data(), 6);
  const std::string bytes = npy_f32_bytes({2, 3}, v.data(), 6);
  EXPECT_EQ(bytes.size() % 64, 24u) << "the data starts at a multiple of 64 bytes";
  EXPECT_EQ((bytes.size() - 24) % 64, 0u);
  std::vector<int64_t> shape;
  EXPECT_EQ(read_npy_f32(d / "a.npy", &shape), v);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
  EXPECT_THROW(npy_f32_bytes({2, 2}, v.data(), 6), UsageError);
  if (!have_torch()) GTEST_SKIP() << "skipped: no NumPy at " << CXRTUNE_PYTHON;
  const std::string cmd = std::string(CXRTUNE_PYTHON) + " -c \"import numpy as np; a = np.load('" + (d / "a.npy").string() +
                          "'); assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape); "
                          "assert (a.ravel() == np.array([0.5, -1.25, 3e-8, 7.0, 1e30, 0.0], np.float32)).all(), a\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(Colormap, ViridisEndpointsAndMonotoneLightness) {
  // matplotlib's viridis(0.0) and viridis(1.0).
  EXPECT_EQ(viridis(0.0), (std::array<float, 3>{0.267004f, 0.004874f, 0.329415f}));
  EXPECT_EQ(viridis(1.0), (std::array<float, 3>{0.993248f, 0.906157f, 0.143936f}));
  EXPECT_EQ(viridis(-3.0), viridis(0.0));
  EXPECT_EQ(viridis(7.0), viridis(1.0));
  EXPECT_EQ(viridis(std::nan("")), viridis(0.0));
  EXPECT_EQ(viridis_rgb8(0.0), (std::array<uint8_t, 3>{68, 1, 84}));
  EXPECT_EQ(viridis_rgb8(1.0), (std::array<uint8_t, 3>{253, 231, 37}));
  double last = -1;
  for (int i = 0; i < kViridisEntries; ++i) {
    const auto& c = viridis_entry(i);
    const double luma = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    EXPECT_GT(luma, last) << "entry " << i;
    last = luma;
  }
  const auto mid = viridis(0.5 / 255.0);  // halfway between the first two entries
  EXPECT_NEAR(mid[0], (0.267004 + 0.268510) / 2, 1e-7);
}

TEST(Overlay, UpsamplingIsTorchBilinearWithoutAlignedCorners) {
  const float m[4] = {0, 1, 2, 3};  // [[0, 1], [2, 3]]
  const auto up = upsample_bilinear(m, 2, 2, 4, 4);
  // Half-pixel centres: output x=1 samples source 0.25, x=0 clamps to 0.
  const float want[16] = {0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(up[static_cast<size_t>(i)], want[i], 1e-6) << i;
  if (!have_torch()) return;
  const float r[6] = {0.1f, -2, 5, 3, 0.5f, 1};  // 2 × 3 to 7 × 5
  const auto ours = upsample_bilinear(r, 2, 3, 7, 5);
  const fs::path out = fresh_dir("interp") / "t.txt";
  const std::string cmd = std::string(CXRTUNE_PYTHON) + " -c \"import torch; x = torch.tensor([[0.1, -2, 5], [3, 0.5, 1]]).view(1, 1, 2, 3); "
                          "y = torch.nn.functional.interpolate(x, size=(7, 5), mode='bilinear', align_corners=False); "
                          "open('" + out.string() + "', 'w').write(' '.join(map(str, y.flatten().tolist())))\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  for (float o : ours) {
    double t;
    in >> t;
    EXPECT_NEAR(o, t, 1e-6);
  }
}

TEST(Overlay, SizeLegendAndBlend) {
  Image display;
  display.width = display.height = 128;
  display.pixels.assign(128 * 128, 0.25f);
  const float map[4] = {0, 0, 0, 10};  // the bottom-right cell is the map's maximum
  const RgbImage o = cam_overlay(display, map, 2, 2, {0.4});
  const LegendGeometry g = legend_geometry(128);
  EXPECT_EQ(o.height, 128);
  EXPECT_EQ(o.width, 128 + g.width);
  EXPECT_EQ(g.width, 16);
  // The image: grey 0.25 blended with viridis(0) (top left) and viridis(1) (bottom right corner).
  for (size_t ch = 0; ch < 3; ++ch) {
    EXPECT_EQ(o.at(0, 0)[ch], std::lround(255 * (0.6 * 0.25 + 0.4 * viridis(0)[ch])));
    EXPECT_EQ(o.at(127, 127)[ch], std::lround(255 * (0.6 * 0.25 + 0.4 * viridis(1)[ch])));
  }
  // The bar: viridis(1) in its top row, viridis(0) in its bottom row, unblended.
  const int64_t bar = 128 + g.bar_x;
  for (size_t ch = 0; ch < 3; ++ch) {
    EXPECT_EQ(o.at(0, bar)[ch], viridis_rgb8(1)[ch]);
    EXPECT_EQ(o.at(127, bar + g.bar_width - 1)[ch], viridis_rgb8(0)[ch]);
    EXPECT_EQ(o.at(64, 128)[ch], 0) << "black between the image and the bar";
  }
  // Labels: "1" at the top (its middle column is lit in the first row), "0" at the bottom (its corners).
  const int64_t label = 128 + g.label_x;
  EXPECT_EQ(o.at(0, label + 1)[0], 255);
  EXPECT_EQ(o.at(0, label)[0], 0);
  EXPECT_EQ(o.at(127, label)[0], 255);
  EXPECT_EQ(o.at(125, label + 1)[0], 0) << "the inside of the 0";
  // Large images scale the legend.
  EXPECT_EQ(legend_geometry(512).width, 4 * 16);
  // A flat map (nothing above ReLU's 0) is all viridis(0).
  const float flat[4] = {0, 0, 0, 0};
  EXPECT_EQ(cam_overlay(display, flat, 2, 2).at(127, 127)[1], std::lround(255 * (0.55 * 0.25 + 0.45 * viridis(0)[1])));
}

TEST(GradCamMath, AlphaIsTheSpatialMeanOfTheGradient) {
  // Two channels of 1 × 2: α = (mean(1, 3), mean(−1, −1)) = (2, −1).
  const float a[4] = {1, 2, 3, 5}, g[4] = {1, 3, -1, -1};
  const auto m = grad_cam_map(a, g, 2, 1, 2);
  EXPECT_FLOAT_EQ(m[0], std::max(0.0f, 2 * 1 - 1 * 3.0f));  // ReLU(−1) = 0
  EXPECT_FLOAT_EQ(m[1], 2 * 2 - 1 * 5.0f < 0 ? 0 : 2 * 2 - 5.0f);
  const float a2[4] = {4, 2, 1, 1};
  const auto m2 = grad_cam_map(a2, g, 2, 1, 2);
  EXPECT_FLOAT_EQ(m2[0], 7);
  EXPECT_FLOAT_EQ(m2[1], 3);
}

TEST(Scoring, SoftmaxSigmoidTemperatureThresholds) {
  const float z[3] = {1, 2, 0};
  const auto p = probabilities(z, 3, ScoringRule{});
  const double s = std::exp(1) + std::exp(2) + 1;
  EXPECT_NEAR(p[0], std::exp(1) / s, 1e-15);
  EXPECT_EQ(predicted_classes(p, {}), std::vector<int64_t>{1});
  const auto q = probabilities(z, 3, ScoringRule{true, 2.0, {}});
  EXPECT_NEAR(q[1], 1 / (1 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(q[2], 0.5, 1e-15);
  EXPECT_EQ(predicted_classes(q, ScoringRule{true, 2.0, {}}), (std::vector<int64_t>{0, 1, 2}));  // 0.5 each, at or above
  EXPECT_EQ(predicted_classes(q, ScoringRule{true, 2.0, {0.7, 0.7, 0.4}}), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(top_class(q), 1);
}

}  // namespace
}  // namespace cxr::test
