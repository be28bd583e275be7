// Recognises a media file's format from its first bytes (magic numbers), never from its
// extension, so a decoder can name what a file really is ("a WAV audio file named .png").
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace omnirm::media {

enum class MediaFormat {
  unknown,
  png,
  jpeg,
  webp,
  gif,
  bmp,
  wav,
  flac,
  mp3,
  ogg,
  mp4,       // ISO base media (MP4, MOV, M4A): an "ftyp" box
  matroska,  // Matroska / WebM: an EBML header
  ply,
  glb,
};

enum class MediaKind { unknown, image, audio, video, mesh };

// The format of a file whose first bytes are `head` (64 bytes are enough; fewer are fine).
MediaFormat sniff_format(std::span<const uint8_t> head);

// "PNG image", "WAV audio", "MP4 / MOV container", ... for messages.
std::string_view format_description(MediaFormat format);

// The kind of content a format usually holds (an MP4 or Matroska file is reported as video).
MediaKind format_kind(MediaFormat format);

}  // namespace omnirm::media
