// The media decoding libraries this build links, with their versions, for `omnirm doctor`.
#pragma once

#include <string>
#include <vector>

namespace omnirm::media {

// "FFmpeg (libavformat 59.27.100, libavcodec 59.37.100)", "libwebp 1.2.4", ...: one entry per
// library, in the order images, audio / video, meshes.
std::vector<std::string> decoder_libraries();

}  // namespace omnirm::media
