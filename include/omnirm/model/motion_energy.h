// Motion-energy maps for video tubelets: for each pair of consecutive frames, the spatial
// gradient of their mean times their temporal difference (the numerator of the optical-flow
// constraint, as in Lucas–Kanade), summed over colour channels. Where a pattern moves by
// (vx, vy) between the frames, the two maps are about vx·|∂I/∂x|² and vy·|∂I/∂y|², so the
// sign of each says the direction, and a patch embedding that sums them sees motion at its
// first, linear step. A randomly initialised patch embedding over raw frames only sees motion
// through later nonlinear layers; with these maps a tower trained from scratch picks up which
// way things move as readily as what colour they are. The maps are scaled by
// kMotionEnergyGain so that they weigh in the patch embedding's first features as much as the
// pixels do.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace omnirm::model {

// Channels motion_energy adds for a tubelet of `temporal_patch` frames: two per consecutive
// frame pair (x, then y), 0 for a single frame.
inline int64_t motion_energy_channels(int64_t temporal_patch) { return 2 * (temporal_patch - 1); }

// The maps' scale. Unscaled, an edge that moves a few pixels gives values a few times smaller
// than the spread of the pixel channels, and only at the edge, so a freshly initialised patch
// embedding responds to the pixels and barely to the motion. On the synthetic moving-square clips
// the unscaled maps have an rms of about 0.1 against 0.25 for the pixels, and a reward model
// trained from scratch on which way the square moves told the directions apart after about
// 200 steps at gain 8 and not within 360 at gain 1.
inline constexpr double kMotionEnergyGain = 8.0;

// tubelets [B, 3·T, S, S] (T frames, channels frame-major, values in [-1, 1]) → maps
// [B, 2·(T−1), S, S]: for frame pair k (frames k and k+1) channel 2k holds −g·∂x(mean)·Δ and
// channel 2k+1 holds −g·∂y(mean)·Δ (g = kMotionEnergyGain), central differences inside the
// image and 0 on its border, y pointing down. Positive values mean motion to the right (x) or
// downwards (y). Still images (T identical frames) give zeros.
at::Tensor motion_energy(const at::Tensor& tubelets, int64_t temporal_patch);

}  // namespace omnirm::model
