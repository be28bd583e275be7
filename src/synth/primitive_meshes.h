// The 3D world of t23d: a cube, sphere, cone or cylinder, tall (twice as high as wide) or flat
// (a quarter as high as wide), standing upright (height along +y) or
// lying on its side (height along x), written as an ASCII PLY or OBJ mesh or rendered as a
// 2x2 grid of silhouettes ("views": front, side, top and an oblique view).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "omnirm/media/image.h"
#include "omnirm/media/media_write.h"
#include "synth_common.h"

namespace omnirm::synth::detail {

inline constexpr std::array<std::string_view, 4> kPrimitiveNames = {"cube", "sphere", "cone",
                                                                    "cylinder"};
inline constexpr std::array<std::string_view, 2> kStretchNames = {"tall", "flat"};
inline constexpr std::array<std::string_view, 2> kPoseNames = {"upright", "lying"};
inline constexpr int kModelVariants = 2;

enum class ModelForm { ply = 0, obj = 1, views = 2 };

struct PrimitiveModel {
  int primitive = 0;     // index into kPrimitiveNames
  int stretch = 0;       // index into kStretchNames
  int pose = 0;          // index into kPoseNames
  int variant = 0;       // 0 .. kModelVariants - 1: tessellation fineness
  int width_jitter = 0;  // percent added to the width, -10 .. 10
};

// The model's triangles: width along x and z, height along y (upright) or x (lying), centred
// at the origin.
media::Mesh build_primitive_mesh(const PrimitiveModel& model);

// A (2 * cell) x (2 * cell) RGB grid of silhouettes: front (x right, y up) top left, side
// (z right, y up) top right, top (x right, z down) bottom left, oblique bottom right. One
// scale for all four, so proportions are comparable between views.
media::Image render_views(const media::Mesh& mesh, int cell, media::Rgb background);

// media/mesh/<split>/<stem>.ply | .obj, or media/views/<split>/<stem>.png (cells of
// image_size; opaque stem, see media_stem), written on first use. Returns the path;
// the content part type is "mesh" for PLY and OBJ, "views" for renders.
std::string primitive_model_file(MediaPool& pool, const PrimitiveModel& model, ModelForm form,
                                 Split split, int image_size);

// Rows: proportions (tall, flat); columns: primitives. Eval holds one primitive per
// proportion, the two different.
ComboGrid primitive_grid(uint64_t seed, bool hold_out);

}  // namespace omnirm::synth::detail
