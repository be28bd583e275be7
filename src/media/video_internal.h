// Pieces shared by the two video sources (FFmpeg files and frame directories).
#pragma once

#include <string>

#include "omnirm/media/video.h"

namespace omnirm::media::detail {

// decode_video for a directory of image frames (see video.h).
Video decode_frame_directory(const std::string& path, const VideoOptions& options,
                             const MediaLimits& limits);

}  // namespace omnirm::media::detail
