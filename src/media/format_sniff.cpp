// Magic-number sniffing of media formats. Only the leading bytes are looked at.
#include "omnirm/media/format_sniff.h"

#include <cstring>

namespace omnirm::media {
namespace {

bool starts_with(std::span<const uint8_t> head, const char* magic, size_t offset = 0) {
  const size_t length = std::strlen(magic);
  return head.size() >= offset + length && std::memcmp(head.data() + offset, magic, length) == 0;
}

// An MPEG audio frame header (layer I-III) with no reserved field values.
bool is_mpeg_audio_frame(std::span<const uint8_t> head) {
  if (head.size() < 4 || head[0] != 0xFF || (head[1] & 0xE0) != 0xE0) return false;
  const int version = (head[1] >> 3) & 3;
  const int layer = (head[1] >> 1) & 3;
  const int bitrate_index = head[2] >> 4;
  const int rate_index = (head[2] >> 2) & 3;
  return version != 1 && layer != 0 && bitrate_index != 0 && bitrate_index != 15 && rate_index != 3;
}

}  // namespace

MediaFormat sniff_format(std::span<const uint8_t> head) {
  static const char kPngMagic[] = "\x89PNG\r\n\x1a\n";
  if (starts_with(head, kPngMagic)) return MediaFormat::png;
  if (head.size() >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) {
    return MediaFormat::jpeg;
  }
  if (starts_with(head, "RIFF") && starts_with(head, "WEBP", 8)) return MediaFormat::webp;
  if ((starts_with(head, "RIFF") || starts_with(head, "RF64")) && starts_with(head, "WAVE", 8)) {
    return MediaFormat::wav;
  }
  if (starts_with(head, "GIF87a") || starts_with(head, "GIF89a")) return MediaFormat::gif;
  if (starts_with(head, "BM") && head.size() >= 14) return MediaFormat::bmp;
  if (starts_with(head, "fLaC")) return MediaFormat::flac;
  if (starts_with(head, "ID3") || is_mpeg_audio_frame(head)) return MediaFormat::mp3;
  if (starts_with(head, "OggS")) return MediaFormat::ogg;
  if (starts_with(head, "ftyp", 4)) return MediaFormat::mp4;
  if (head.size() >= 4 && head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF &&
      head[3] == 0xA3) {
    return MediaFormat::matroska;
  }
  if (starts_with(head, "ply\n") || starts_with(head, "ply\r\n")) return MediaFormat::ply;
  if (starts_with(head, "glTF")) return MediaFormat::glb;
  return MediaFormat::unknown;
}

std::string_view format_description(MediaFormat format) {
  switch (format) {
    case MediaFormat::png:
      return "PNG image";
    case MediaFormat::jpeg:
      return "JPEG image";
    case MediaFormat::webp:
      return "WebP image";
    case MediaFormat::gif:
      return "GIF image";
    case MediaFormat::bmp:
      return "BMP image";
    case MediaFormat::wav:
      return "WAV audio";
    case MediaFormat::flac:
      return "FLAC audio";
    case MediaFormat::mp3:
      return "MP3 audio";
    case MediaFormat::ogg:
      return "Ogg container";
    case MediaFormat::mp4:
      return "MP4/MOV container";
    case MediaFormat::matroska:
      return "Matroska/WebM container";
    case MediaFormat::ply:
      return "PLY 3D file";
    case MediaFormat::glb:
      return "glTF binary 3D file";
    case MediaFormat::unknown:
      break;
  }
  return "unrecognised data";
}

MediaKind format_kind(MediaFormat format) {
  switch (format) {
    case MediaFormat::png:
    case MediaFormat::jpeg:
    case MediaFormat::webp:
    case MediaFormat::gif:
    case MediaFormat::bmp:
      return MediaKind::image;
    case MediaFormat::wav:
    case MediaFormat::flac:
    case MediaFormat::mp3:
    case MediaFormat::ogg:
      return MediaKind::audio;
    case MediaFormat::mp4:
    case MediaFormat::matroska:
      return MediaKind::video;
    case MediaFormat::ply:
    case MediaFormat::glb:
      return MediaKind::mesh;
    case MediaFormat::unknown:
      break;
  }
  return MediaKind::unknown;
}

}  // namespace omnirm::media
