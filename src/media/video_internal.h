// Pieces shared by the two video sources (FFmpeg files and frame directories).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/media/video.h"

namespace omnirm::media::detail {

// plugin_frame_indices, less the indices at or past the `present` frames (the plugin's
// first-frames rule may ask for more than a short video holds); throws UserError naming the
// video when no frame is left (a video shorter than one frame at max_fps: the plugin would
// lay it out as nothing).
std::vector<int64_t> plugin_indices_present(const std::string& path, int64_t declared_frames,
                                            double declared_seconds, int64_t present,
                                            const VideoOptions& options);

// decode_video for a directory of image frames (see video.h).
Video decode_frame_directory(const std::string& path, const VideoOptions& options,
                             const MediaLimits& limits);

}  // namespace omnirm::media::detail
