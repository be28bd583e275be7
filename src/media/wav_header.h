// The declared values of a RIFF/WAVE header, checked before FFmpeg opens the file: FFmpeg
// quietly ignores a data size that runs past the end of the file, so neither a giant declared
// duration nor a cut-off file would otherwise be noticed.
#pragma once

#include <cstdint>
#include <string>

#include "omnirm/media/limits.h"

namespace omnirm::media::detail {

// Walks the chunks up to "data". Throws omnirm::UserError when the data chunk declares more
// than limits.max_duration_seconds of audio, or more bytes than the file holds (truncated).
// A data size of 0 or 0xFFFFFFFF (unknown length, as streaming writers leave it) and RF64
// files are left to the decoder, which enforces the limit while decoding.
void check_wav_header(const std::string& path, int64_t file_size, const MediaLimits& limits);

}  // namespace omnirm::media::detail
