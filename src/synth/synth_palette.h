// The colours of the synthetic image and video worlds: four well separated hues on one
// light background, so a shape's colour survives lossy video encoding and downscaling.
#pragma once

#include <array>
#include <string_view>

#include "omnirm/media/media_write.h"

namespace omnirm::synth::detail {

struct NamedColour {
  std::string_view name;
  media::Rgb rgb;
};

inline constexpr std::array<NamedColour, 4> kColours = {{{"red", {215, 35, 35}},
                                                         {"green", {30, 160, 50}},
                                                         {"blue", {40, 80, 225}},
                                                         {"yellow", {235, 200, 25}}}};

inline constexpr media::Rgb kBackground{238, 238, 238};

}  // namespace omnirm::synth::detail
