// Test-only media helpers (see media_writers.h).
#include "unit/media/media_writers.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <random>
#include <stdexcept>

namespace omnirm::media::testing {

Image gradient_image(int width, int height) {
  Image image = solid_image(width, height, Rgb{});
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.pixels.data() + (static_cast<size_t>(y) * width + x) * 3;
      p[0] = static_cast<uint8_t>(x * 255 / std::max(width - 1, 1));
      p[1] = static_cast<uint8_t>(y * 255 / std::max(height - 1, 1));
      p[2] = static_cast<uint8_t>((x + y) % 256);
    }
  }
  return image;
}

std::vector<float> sine(double hz, double amplitude, double seconds, int sample_rate) {
  std::vector<float> samples(static_cast<size_t>(std::lround(seconds * sample_rate)));
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] =
        static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz * i / sample_rate));
  }
  return samples;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_first_half(const std::string& source, const std::string& target) {
  std::vector<uint8_t> bytes = read_bytes(source);
  bytes.resize(bytes.size() / 2);
  write_bytes(target, bytes);
}

void write_random_bytes(const std::string& path, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(count);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng() & 0xFF);
  write_bytes(path, bytes);
}

}  // namespace omnirm::media::testing
