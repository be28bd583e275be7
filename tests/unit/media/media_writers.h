// Test-only media helpers: a gradient image, a sine tone, and makers of damaged copies. The
// writers themselves live in the media library (omnirm/media/media_write.h); this header
// brings them into the tests' namespace too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/media/image.h"
#include "omnirm/media/media_write.h"

namespace omnirm::media::testing {

// Pixel (x, y) = (x * 255 / (width - 1), y * 255 / (height - 1), (x + y) % 256).
Image gradient_image(int width, int height);

// A sine of `hz` at `amplitude`, `seconds` long, at `sample_rate`.
std::vector<float> sine(double hz, double amplitude, double seconds, int sample_rate);

// Bytes of a file, and writing bytes back. Throw std::runtime_error on failure.
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Writes the first half of `source` to `target`.
void write_first_half(const std::string& source, const std::string& target);
// Writes `count` pseudo-random bytes (fixed seed) to `path`.
void write_random_bytes(const std::string& path, size_t count, uint32_t seed);

}  // namespace omnirm::media::testing
