// Resource limits for decoding untrusted media. Every decoder checks the values a file
// declares (dimensions, duration, frame count, element counts) against these BEFORE it
// decodes or allocates, so a hostile file is refused with a one-line error instead of
// exhausting memory or time. Decoders also enforce the limits while decoding, for formats
// that declare nothing.
#pragma once

#include <cstdint>

namespace omnirm::media {

struct MediaLimits {
  int64_t max_file_bytes = int64_t{512} << 20;  // any single media file
  int64_t max_pixels = int64_t{1} << 26;        // width * height of an image or video frame
  int64_t max_side = 16384;                     // the larger of width and height
  double max_duration_seconds = 600.0;          // audio and video
  int64_t max_frames_scanned = 20000;           // video frames (or frame files) looked at
  int64_t max_mesh_vertices = 10'000'000;       // summed over all meshes of a 3D file
  int64_t max_mesh_faces = 20'000'000;
};

}  // namespace omnirm::media
