#include "io/synthetic_cxr.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace cxr {
namespace {

// 0 outside, 1 inside, a soft edge of relative width `soft` across the ellipse boundary.
double ellipse(double x, double y, double cx, double cy, double rx, double ry, double soft = 0.08) {
  const double d = std::sqrt((x - cx) * (x - cx) / (rx * rx) + (y - cy) * (y - cy) / (ry * ry));
  return std::clamp((1.0 + soft - d) / (2 * soft), 0.0, 1.0);
}

double smooth(double t) { return t * t * (3 - 2 * t); }

struct Anatomy {
  double cx, lung_dx, lung_rx, lung_top, lung_bottom, heart_x, heart_y, heart_r, rib_gap, tilt;
  double exposure, contrast, noise;
};

Anatomy random_anatomy(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Anatomy a;
  a.cx = 0.5 + 0.03 * (u(rng) - 0.5);
  a.lung_dx = 0.19 + 0.03 * u(rng);
  a.lung_rx = 0.14 + 0.03 * u(rng);
  a.lung_top = 0.16 + 0.05 * u(rng);
  a.lung_bottom = 0.72 + 0.06 * u(rng);
  a.heart_x = a.cx + 0.07 + 0.03 * u(rng);  // the patient's left is the image's right (PA)
  a.heart_y = 0.60 + 0.05 * u(rng);
  a.heart_r = 0.14 + 0.03 * u(rng);
  a.rib_gap = 0.055 + 0.01 * u(rng);
  a.tilt = 0.04 * (u(rng) - 0.5);
  a.exposure = 0.9 + 0.2 * u(rng);
  a.contrast = 0.85 + 0.3 * u(rng);
  a.noise = 0.02 + 0.02 * u(rng);
  return a;
}

// Lung field membership (0..1) of a point, left or right, with a domed diaphragm below.
double lung(const Anatomy& a, double x, double y, int side) {
  const double cx = a.cx + side * a.lung_dx;
  const double cy = (a.lung_top + a.lung_bottom) / 2 + side * a.tilt;
  const double ry = (a.lung_bottom - a.lung_top) / 2;
  double m = ellipse(x, y, cx, cy, a.lung_rx, ry, 0.06);
  // Medial edge is straighter: cut by the mediastinum.
  const double medial = side < 0 ? std::clamp((a.cx - 0.045 - x) / 0.02, 0.0, 1.0) : std::clamp((x - a.cx - 0.045) / 0.02, 0.0, 1.0);
  return m * medial;
}

}  // namespace

Image make_chest_phantom(const PhantomSpec& spec) {
  // The other findings change the stream's salt only when set, so pneumonia sets stay as they were.
  const uint64_t salt = (spec.pneumonia ? 7 : 3) + (spec.cardiomegaly ? 16 : 0) + (spec.nodules ? 32 : 0);
  std::mt19937_64 rng(spec.seed * 0x9E3779B97F4A7C15ull + spec.index * 0xBF58476D1CE4E5B9ull + salt);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  Anatomy a = random_anatomy(rng);
  // Cardiomegaly: a heart about 1.35x as wide (cardiothoracic ratio about 0.55 instead of 0.4).
  if (spec.cardiomegaly) a.heart_r *= 1.3 + 0.1 * u(rng);

  // Consolidations: patchy (several blobs) or lobar (one large lower-zone region), one or both lungs.
  struct Blob { double x, y, rx, ry, amp, soft = 0.4; };
  std::vector<Blob> blobs;
  if (spec.pneumonia) {
    const bool lobar = u(rng) < 0.4;
    const int side = u(rng) < 0.5 ? -1 : 1;
    if (lobar) {
      blobs.push_back({a.cx + side * a.lung_dx, a.lung_bottom - 0.14 - 0.05 * u(rng), a.lung_rx * (0.8 + 0.2 * u(rng)),
                       0.10 + 0.04 * u(rng), 0.12 + 0.10 * u(rng)});
    } else {
      const int n = 3 + static_cast<int>(u(rng) * 5);
      for (int i = 0; i < n; ++i) {
        const int s = u(rng) < 0.75 ? side : -side;
        blobs.push_back({a.cx + s * a.lung_dx + a.lung_rx * 0.8 * (u(rng) - 0.5),
                         a.lung_top + (a.lung_bottom - a.lung_top) * (0.3 + 0.6 * u(rng)), 0.03 + 0.04 * u(rng),
                         0.03 + 0.04 * u(rng), 0.08 + 0.10 * u(rng)});
      }
    }
  }

  // Nodules: small round opacities with a sharp edge, anywhere in either lung.
  if (spec.nodules) {
    const int n = 2 + static_cast<int>(u(rng) * 4);
    for (int i = 0; i < n; ++i) {
      const int s = u(rng) < 0.5 ? -1 : 1;
      const double r = 0.015 + 0.015 * u(rng);
      blobs.push_back({a.cx + s * a.lung_dx + a.lung_rx * 0.9 * (u(rng) - 0.5),
                       a.lung_top + (a.lung_bottom - a.lung_top) * (0.15 + 0.7 * u(rng)), r, r, 0.9 + 0.4 * u(rng), 0.15});
    }
  }

  Image img;
  img.width = img.height = spec.size;
  img.pixels.resize(static_cast<size_t>(spec.size * spec.size));
  const double inv = 1.0 / static_cast<double>(spec.size);
  for (int64_t py = 0; py < spec.size; ++py) {
    for (int64_t px = 0; px < spec.size; ++px) {
      const double x = (static_cast<double>(px) + 0.5) * inv, y = (static_cast<double>(py) + 0.5) * inv;
      // Soft tissue of the thorax and abdomen; air outside.
      const double body = ellipse(x, y, a.cx, 0.62, 0.44, 0.62, 0.05);
      double v = 0.06 + 0.40 * body;
      const double lungs = std::max(lung(a, x, y, -1), lung(a, x, y, 1));
      v -= 0.26 * lungs;
      // Heart silhouette and mediastinum overlap the lungs.
      v += 0.30 * ellipse(x, y, a.heart_x, a.heart_y, a.heart_r, a.heart_r * 0.85, 0.1) * (0.5 + 0.5 * lungs);
      v += 0.10 * ellipse(x, y, a.cx, 0.42, 0.05, 0.30, 0.2);
      // Spine: a central column with vertebral bodies.
      const double spine = std::clamp(1.0 - std::abs(x - a.cx) / 0.035, 0.0, 1.0);
      v += 0.22 * smooth(spine) * (0.85 + 0.15 * std::cos(y * 2 * M_PI / 0.045)) * body;
      // Ribs: arcs sloping down from the spine outwards, brighter over the lungs.
      for (int side : {-1, 1}) {
        const double dx = (x - a.cx) * side;
        if (dx < 0.03 || dx > 0.36) continue;
        for (int k = 0; k < 10; ++k) {
          const double y0 = a.lung_top - 0.02 + k * a.rib_gap;
          const double yc = y0 + 0.9 * dx * dx + 0.08 * dx;
          const double d = std::abs(y - yc) / 0.016;
          if (d < 1) v += 0.11 * smooth(1 - d) * body;
        }
      }
      // Clavicles: slanted bands at the apices.
      for (int side : {-1, 1}) {
        const double dx = (x - a.cx) * side;
        if (dx < 0.02 || dx > 0.30) continue;
        const double yc = a.lung_top - 0.03 + 0.15 * dx;
        const double d = std::abs(y - yc) / 0.016;
        if (d < 1) v += 0.16 * smooth(1 - d);
      }
      // Consolidations: denser lung, only inside the lung fields.
      double c = 0;
      for (const Blob& b : blobs) c += b.amp * ellipse(x, y, b.x, b.y, b.rx, b.ry, b.soft);
      v += lungs * std::min(c, 0.35);
      // Exposure and contrast.
      v = 0.5 + (v * a.exposure - 0.5 * a.exposure) * a.contrast + 0.5 * (a.exposure - 1.0);
      img.pixels[static_cast<size_t>(py * spec.size + px)] = static_cast<float>(v);
    }
  }
  // Quantum noise and a slight texture, then clamp.
  for (float& p : img.pixels) p = static_cast<float>(std::clamp(p + a.noise * normal(rng), 0.0, 1.0));
  img.facts.format = "synthetic";
  img.facts.photometric = "MONOCHROME2";
  return img;
}

}  // namespace cxr
