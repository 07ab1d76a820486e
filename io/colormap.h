// Viridis, the perceptually uniform colour map of matplotlib (Stéfan van der Walt, Nathaniel
// Smith and Eric Firing, 2015): lightness rises monotonically from dark purple (0) to yellow
// (1), so a heatmap reads the same in greyscale and to colour-blind readers. The 256-entry
// table is `_viridis_data` of BIDS/colormap (https://github.com/BIDS/colormap, colormaps.py),
// released under CC0, identical to matplotlib's lib/matplotlib/_cm_listed.py.
#pragma once
#include <array>
#include <cstdint>

namespace cxr {

inline constexpr int kViridisEntries = 256;

// Entry i of the table (0 ≤ i < 256), RGB in [0, 1].
const std::array<float, 3>& viridis_entry(int i);

// The colour of t ∈ [0, 1] (clamped; NaN maps to 0): linear interpolation between the table's
// entries at t·255, so viridis(0) and viridis(1) are its first and last entries exactly.
std::array<float, 3> viridis(double t);

// The same as 8-bit RGB, each channel rounded to nearest.
std::array<uint8_t, 3> viridis_rgb8(double t);

}  // namespace cxr
