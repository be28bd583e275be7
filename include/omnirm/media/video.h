// Video decoding: an MP4 / MOV / WebM / MKV file through FFmpeg, or a directory of image
// frames (PNG/JPEG/WebP, taken in name order), sampled uniformly in time into a few RGB
// frames.
//
// Sampling rule (frames known by their presentation timestamps t_0 <= ... <= t_{M-1}, and an
// end time E = t_{M-1} + one frame duration, so the video spans [t_0, E)):
//   n = min(max_frames, floor((E - t_0) * max_fps), M), at least 1;
//   target i (0 <= i < n) is the middle of the i-th of n equal slices of [t_0, E);
//   the frame taken for a target is the last one shown at that time (largest t_j <= target).
// Targets are at least 1/max_fps apart, so the fps cap holds; if two targets fall on the same
// frame (irregular timestamps) it is taken once. A frame directory is a video at
// `directory_fps` frames per second (frame k at k / directory_fps).
//
// The MiniCPM-o path samples as LLaMA-Factory's multimodal plugin does instead
// (VideoSampling::plugin_linspace, plugin_frame_indices): from the frame count M and the
// duration D the stream declares (a frame directory declares its file count and
// count / directory_fps), n = min(M, max_frames, floor(D · max_fps)) frames at
// linspace(0, M − 1, n) truncated to integers, first and last included; a stream that declares
// no frame count (Matroska / WebM) gives its first max_frames frames. Frames are counted in
// display order as the decoder returns them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/media/image.h"
#include "omnirm/media/limits.h"

namespace omnirm::media {

enum class VideoSampling {
  uniform,          // omnirm's rule: middles of equal time slices (above)
  plugin_linspace,  // LLaMA-Factory's: linspace over the declared frame count (above)
};

// How a decoded YUV frame becomes RGB (RGB-coded video is copied either way).
enum class VideoRgb {
  // libswscale with accurate rounding and full chroma interpolation, in the stream's own
  // colour matrix and range.
  accurate,
  // As PyAV's VideoFrame.to_image gives LLaMA-Factory's plugin its frames: libswscale's
  // defaults (bilinear flags, so its unscaled fast path: chroma replicated, BT.601 unless the
  // pixel format says full range), whatever matrix the stream declares.
  pyav,
};

struct VideoOptions {
  double max_fps = 2.0;        // never sample more densely than this
  int max_frames = 4;          // never more frames than this
  int max_side = 256;          // frames are shrunk to fit (area filter); 0 keeps their size
  double directory_fps = 2.0;  // frame rate assumed for a directory of image frames
  VideoSampling sampling = VideoSampling::uniform;
  VideoRgb rgb = VideoRgb::accurate;
};

struct VideoFrame {
  int64_t index = 0;       // position of the frame in the video (display order, from 0)
  double timestamp = 0.0;  // seconds after the first frame (the first frame is at 0)
  Image image;
};

struct Video {
  std::vector<VideoFrame> frames;  // in time order
  int64_t source_frame_count = 0;  // M: frames the video holds
  double duration_seconds = 0.0;   // E - t_0
  int source_width = 0;
  int source_height = 0;

  size_t byte_size() const {
    size_t bytes = 0;
    for (const VideoFrame& frame : frames) bytes += frame.image.byte_size();
    return bytes;
  }
};

// Decodes a video file or a directory of frames (see the sampling rule above). Throws
// omnirm::UserError "<path>: what; what to do" on a missing, oversized, truncated or corrupt
// file, a file without a video stream, or declared values beyond `limits` (frame count,
// duration, frame size: checked before any frame is decoded).
Video decode_video(const std::string& path, const VideoOptions& options = {},
                   const MediaLimits& limits = {});

// The sampling rule alone: indices into `timestamps` (sorted ascending, seconds) of the
// frames to take, for a video ending at `end_time`.
std::vector<int64_t> sample_frame_indices(const std::vector<double>& timestamps, double end_time,
                                          const VideoOptions& options);

// The plugin's rule alone: the indices for a stream that declares `declared_frames` frames
// (0: not declared) over `declared_seconds` (ignored when no frame count is declared). Empty
// when floor(declared_seconds · max_fps) is 0; the caller decides what that means.
std::vector<int64_t> plugin_frame_indices(int64_t declared_frames, double declared_seconds,
                                          const VideoOptions& options);

}  // namespace omnirm::media
