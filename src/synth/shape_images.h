// The image world of ti2t, t2i and ti2i: one filled circle, square or triangle of one colour,
// small or large, on a plain background. A picture's position depends only on its split, size
// and variant (not on colour or shape), so an edited picture keeps its source's place.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "omnirm/media/image.h"
#include "synth_common.h"

namespace omnirm::synth::detail {

inline constexpr std::array<std::string_view, 3> kShapeNames = {"circle", "square", "triangle"};
inline constexpr std::array<std::string_view, 2> kSizeNames = {"small", "large"};
inline constexpr int kPositionVariants = 32;

struct ShapePicture {
  int colour = 0;   // index into kColours
  int shape = 0;    // index into kShapeNames
  int size = 0;     // index into kSizeNames
  int variant = 0;  // 0 .. kPositionVariants - 1
};

// image_size x image_size RGB.
media::Image draw_shape_picture(const ShapePicture& picture, Split split, uint64_t seed,
                                int image_size);

// media/image/<split>/<stem>.png (opaque stem, see media_stem), written on first use.
std::string shape_picture_file(MediaPool& pool, const ShapePicture& picture, Split split,
                               uint64_t seed, int image_size);

// Rows: shapes; columns: colours. Eval holds one colour per shape, all different.
ComboGrid shape_grid(uint64_t seed, bool hold_out);

}  // namespace omnirm::synth::detail
