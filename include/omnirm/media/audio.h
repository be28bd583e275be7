// Audio decoding through FFmpeg: WAV, FLAC, MP3 (and any other audio in an Ogg, MP4 or
// Matroska container) into mono float32 at a fixed rate, 16 kHz by default (Whisper's).
// Channels are averaged (mono = mean of channels); resampling uses libswresample.
#pragma once

#include <string>
#include <vector>

#include "omnirm/media/limits.h"

namespace omnirm::media {

struct Audio {
  int sample_rate = 0;         // of `samples`
  int source_sample_rate = 0;  // as stored in the file
  int source_channels = 0;
  std::vector<float> samples;  // [num_samples], mono, nominally in [-1, 1]

  double duration_seconds() const {
    return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
  }
  size_t byte_size() const { return samples.size() * sizeof(float); }
};

struct AudioOptions {
  int sample_rate = 16000;
};

// Throws omnirm::UserError "<path>: what; what to do" for a missing, oversized, truncated or
// corrupt file, a file without an audio stream, or one whose declared duration exceeds
// limits.max_duration_seconds (checked before decoding, and again while decoding).
Audio decode_audio(const std::string& path, const AudioOptions& options = {},
                   const MediaLimits& limits = {});

}  // namespace omnirm::media
