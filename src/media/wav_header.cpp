// RIFF/WAVE header check (see wav_header.h). Reads only the chunk headers and "fmt ".
#include "wav_header.h"

#include <cstring>
#include <fstream>

#include "media_common.h"

namespace omnirm::media::detail {
namespace {

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

void check_wav_header(const std::string& path, int64_t file_size, const MediaLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  uint8_t riff[12];
  if (!in.read(reinterpret_cast<char*>(riff), 12) || std::memcmp(riff, "RIFF", 4) != 0) return;

  uint32_t byte_rate = 0;
  int64_t offset = 12;
  for (int chunk = 0; chunk < 64; ++chunk) {
    uint8_t header[8];
    in.seekg(offset);
    if (!in.read(reinterpret_cast<char*>(header), 8)) {
      fail(path, "truncated WAV (ends before its data chunk)", "replace it with the complete file");
    }
    const uint32_t size = le32(header + 4);
    const int64_t body = offset + 8;
    if (std::memcmp(header, "fmt ", 4) == 0 && size >= 16) {
      uint8_t format[16];
      if (!in.read(reinterpret_cast<char*>(format), 16)) {
        fail(path, "truncated WAV (ends inside its format chunk)",
             "replace it with the complete file");
      }
      byte_rate = le32(format + 8);
    } else if (std::memcmp(header, "data", 4) == 0) {
      if (size == 0 || size == 0xFFFFFFFFu || byte_rate == 0) return;
      const double declared = static_cast<double>(size) / byte_rate;
      if (declared > limits.max_duration_seconds) {
        fail(path,
             "declares " + seconds_text(declared) + " of audio, over the limit of " +
                 seconds_text(limits.max_duration_seconds),
             "cut the clip or raise the media duration limit");
      }
      if (body + int64_t{size} > file_size) {
        fail(path,
             "truncated audio: the WAV data chunk declares " + std::to_string(size) +
                 " bytes but the file holds " + std::to_string(file_size - body),
             "replace it with the complete file");
      }
      return;
    }
    offset = body + size + (size & 1);  // chunks are padded to an even size
  }
}

}  // namespace omnirm::media::detail
