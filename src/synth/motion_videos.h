// The video world of tv2t and t2v: a coloured square sliding left, right, up or down across a
// plain background, slowly or fast, drawing a fading trail behind it (two paler ghosts of
// itself), so its heading shows within each frame as well as from frame to frame. Clips are 2 s at
// 4 fps (8 frames), so a decoder sampling at most 2 fps sees 4 frames, evenly spread over the
// motion. A clip's start and path depend only on its split, direction, speed and variant, not on
// its colour.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/media/image.h"
#include "synth_common.h"

namespace omnirm::synth::detail {

inline constexpr std::array<std::string_view, 4> kDirectionNames = {"left", "right", "up", "down"};
inline constexpr std::array<std::string_view, 2> kSpeedNames = {"slow", "fast"};
inline constexpr int kMotionVariants = 64;
inline constexpr int kMotionFps = 4;
inline constexpr int kMotionFrames = 8;

struct MotionClip {
  int colour = 0;     // index into kColours
  int direction = 0;  // index into kDirectionNames
  int speed = 0;      // index into kSpeedNames
  int variant = 0;    // 0 .. kMotionVariants - 1
};

// kMotionFrames frames of image_size x image_size RGB.
std::vector<media::Image> draw_motion_frames(const MotionClip& clip, Split split, uint64_t seed,
                                             int image_size);

// media/video/<split>/<stem>.mp4 (libx264, opaque stem, see media_stem), written on first
// use.
std::string motion_clip_file(MediaPool& pool, const MotionClip& clip, Split split, uint64_t seed,
                             int image_size);

// Rows: directions; columns: colours. Eval holds one colour per direction, all different.
ComboGrid motion_grid(uint64_t seed, bool hold_out);

}  // namespace omnirm::synth::detail
