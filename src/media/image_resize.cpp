// Area-filter image resize and the max-side fit rule (see image.h).
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "omnirm/media/image.h"

namespace omnirm::media {
namespace {

// The source pixels covering one output pixel along one axis, with their weights (summing
// to 1): output pixel o covers the source interval [o * scale, (o + 1) * scale).
struct Span {
  int first = 0;
  std::vector<float> weights;
};

std::vector<Span> area_spans(int source_size, int output_size) {
  const double scale = static_cast<double>(source_size) / output_size;
  std::vector<Span> spans(static_cast<size_t>(output_size));
  for (int o = 0; o < output_size; ++o) {
    const double begin = o * scale;
    const double end = std::min<double>((o + 1) * scale, source_size);
    const int first = std::min(static_cast<int>(std::floor(begin)), source_size - 1);
    const int last = std::max(first, static_cast<int>(std::ceil(end)) - 1);
    Span& span = spans[static_cast<size_t>(o)];
    span.first = first;
    double total = 0.0;
    for (int i = first; i <= last; ++i) {
      const double overlap = std::min<double>(end, i + 1) - std::max<double>(begin, i);
      span.weights.push_back(static_cast<float>(std::max(overlap, 0.0)));
      total += std::max(overlap, 0.0);
    }
    for (float& weight : span.weights) weight = static_cast<float>(weight / total);
  }
  return spans;
}

}  // namespace

Image resize_image_area(const Image& image, int width, int height) {
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0) {
    throw std::invalid_argument("resize_image_area: sizes must be positive");
  }
  if (width == image.width && height == image.height) return image;
  const std::vector<Span> columns = area_spans(image.width, width);
  const std::vector<Span> rows = area_spans(image.height, height);

  // Horizontal pass: [image.height, width, 3] in float.
  std::vector<float> horizontal(static_cast<size_t>(image.height) * width * 3);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* source_row = image.pixels.data() + static_cast<size_t>(y) * image.width * 3;
    float* out_row = horizontal.data() + static_cast<size_t>(y) * width * 3;
    for (int x = 0; x < width; ++x) {
      const Span& span = columns[static_cast<size_t>(x)];
      float sum[3] = {0.0f, 0.0f, 0.0f};
      for (size_t k = 0; k < span.weights.size(); ++k) {
        const uint8_t* pixel = source_row + (static_cast<size_t>(span.first) + k) * 3;
        for (int c = 0; c < 3; ++c) sum[c] += span.weights[k] * pixel[c];
      }
      for (int c = 0; c < 3; ++c) out_row[x * 3 + c] = sum[c];
    }
  }

  // Vertical pass into the output, rounded to nearest.
  Image out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(width) * height * 3);
  const size_t row_floats = static_cast<size_t>(width) * 3;
  std::vector<float> sum(row_floats);
  for (int y = 0; y < height; ++y) {
    const Span& span = rows[static_cast<size_t>(y)];
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (size_t k = 0; k < span.weights.size(); ++k) {
      const float* source_row =
          horizontal.data() + (static_cast<size_t>(span.first) + k) * row_floats;
      for (size_t i = 0; i < row_floats; ++i) sum[i] += span.weights[k] * source_row[i];
    }
    uint8_t* out_row = out.pixels.data() + static_cast<size_t>(y) * row_floats;
    for (size_t i = 0; i < row_floats; ++i) {
      out_row[i] = static_cast<uint8_t>(std::clamp(std::floor(sum[i] + 0.5f), 0.0f, 255.0f));
    }
  }
  return out;
}

void fit_to_max_side(int width, int height, int max_side, int* fitted_width, int* fitted_height) {
  *fitted_width = width;
  *fitted_height = height;
  if (max_side <= 0 || std::max(width, height) <= max_side) return;
  const double scale = static_cast<double>(max_side) / std::max(width, height);
  *fitted_width = std::max(1, static_cast<int>(std::lround(width * scale)));
  *fitted_height = std::max(1, static_cast<int>(std::lround(height * scale)));
}

}  // namespace omnirm::media
