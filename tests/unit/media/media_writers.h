// Test-only writers of real media files: PNG/JPEG (stb_image_write), WebP (libwebp), WAV (by
// hand), FLAC/MP3 and MP4/WebM (FFmpeg encoders through the libraries), and helpers to
// craft damaged copies. Every writer throws std::runtime_error when it cannot write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/media/image.h"

namespace omnirm::media::testing {

// A width x height image of one colour.
Image solid_image(int width, int height, uint8_t r, uint8_t g, uint8_t b);
// Pixel (x, y) = (x * 255 / (width - 1), y * 255 / (height - 1), (x + y) % 256).
Image gradient_image(int width, int height);

void write_png(const std::string& path, const Image& image);
void write_jpeg(const std::string& path, const Image& image, int quality);
void write_webp(const std::string& path, const Image& image, bool lossless);

// 16-bit PCM WAV; `interleaved` holds frames of `channels` samples in [-1, 1].
void write_wav(const std::string& path, const std::vector<float>& interleaved, int channels,
               int sample_rate);

// Encodes mono or interleaved-stereo audio with an FFmpeg encoder ("flac", "libmp3lame");
// the container follows from the file extension.
void encode_audio(const std::string& path, const char* encoder,
                  const std::vector<float>& interleaved, int channels, int sample_rate);

// Encodes `frames` (all the same size, even sides) at `fps` with an FFmpeg encoder
// ("libx264", "libvpx"); the container follows from the file extension. `x264_preset` other
// than "ultrafast" lets libx264 use B-frames (decode order differs from display order).
void encode_video(const std::string& path, const char* encoder, const std::vector<Image>& frames,
                  int fps, const char* x264_preset = "ultrafast");

// A sine of `hz` at `amplitude`, `seconds` long, at `sample_rate`.
std::vector<float> sine(double hz, double amplitude, double seconds, int sample_rate);

// Bytes of a file, and writing bytes back.
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Writes the first half of `source` to `target`.
void write_first_half(const std::string& source, const std::string& target);
// Writes `count` pseudo-random bytes (fixed seed) to `path`.
void write_random_bytes(const std::string& path, size_t count, uint32_t seed);

}  // namespace omnirm::media::testing
