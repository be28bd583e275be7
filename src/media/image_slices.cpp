// Implementation of media/image_slices.h. The geometry follows MiniCPM-V's image processor
// (find_best_resize, get_refine_size, get_sliced_grid) step for step, including Python's
// round-half-to-even and the float truncations; the resizes follow Pillow's Resample.c
// (bicubic, a = −0.5) and Geometry.c (nearest).
#include "omnirm/media/image_slices.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace omnirm::media {
namespace {

// Python's round() of a double: half to even.
long python_round(double value) { return std::lrint(std::nearbyint(value)); }

// ensure_divide: max(round(length / patch) * patch, patch).
int ensure_divide(double length, int patch) {
  return static_cast<int>(std::max<long>(python_round(length / patch) * patch, patch));
}

// find_best_resize: the size whose area is about resolution² (when the image is larger, or
// upscaling is allowed), sides rounded to multiples of the patch.
void best_resize(double width, double height, int resolution, int patch, bool allow_upscale,
                 int* out_width, int* out_height) {
  if (width * height > double(resolution) * resolution || allow_upscale) {
    const double r = width / height;
    height = static_cast<double>(static_cast<long>(resolution / std::sqrt(r)));
    width = static_cast<double>(static_cast<long>(height * r));
  }
  *out_width = ensure_divide(width, patch);
  *out_height = ensure_divide(height, patch);
}

// Pillow's bicubic kernel (a = −0.5).
double bicubic(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

// One axis of Pillow's resample: for each output position its first input index, tap count
// and fixed-point coefficients (precompute_coeffs + normalize_coeffs_8bpc).
struct Taps {
  std::vector<int> first, count;
  std::vector<std::vector<int32_t>> weights;
};

Taps precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 2.0 * filter_scale;
  Taps taps;
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filter_scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    std::vector<double> k(static_cast<size_t>(xmax));
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    std::vector<int32_t> fixed(k.size());
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      fixed[x] = static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kPrecisionBits)
                                            : 0.5 + w * (1 << kPrecisionBits));
    }
    taps.first.push_back(xmin);
    taps.count.push_back(xmax);
    taps.weights.push_back(std::move(fixed));
  }
  return taps;
}

uint8_t clip8(int32_t value) {
  if (value >= (1 << kPrecisionBits << 8)) return 255;
  if (value <= 0) return 0;
  return static_cast<uint8_t>(value >> kPrecisionBits);
}

Image resize_bicubic(const Image& in, int width, int height) {
  const bool horizontal = width != in.width;
  const bool vertical = height != in.height;
  const Taps columns = precompute(in.width, width);
  const Taps rows = precompute(in.height, height);
  // The horizontal pass only covers the source rows the vertical pass reads.
  const int first_row = rows.first.front();
  const int last_row = rows.first.back() + rows.count.back();
  Image temp = in;
  int row_offset = 0;
  if (horizontal) {
    temp.width = width;
    temp.height = last_row - first_row;
    temp.pixels.assign(static_cast<size_t>(temp.width) * temp.height * 3, 0);
    for (int y = 0; y < temp.height; ++y) {
      const uint8_t* src = in.pixels.data() + static_cast<size_t>(y + first_row) * in.width * 3;
      uint8_t* dst = temp.pixels.data() + static_cast<size_t>(y) * width * 3;
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) {
          int32_t sum = 1 << (kPrecisionBits - 1);
          for (int t = 0; t < columns.count[x]; ++t)
            sum += src[(columns.first[x] + t) * 3 + c] * columns.weights[x][t];
          dst[x * 3 + c] = clip8(sum);
        }
      }
    }
    row_offset = first_row;
  }
  if (!vertical) return temp;
  Image out;
  out.width = temp.width;
  out.height = height;
  out.pixels.assign(static_cast<size_t>(out.width) * height * 3, 0);
  const size_t stride = static_cast<size_t>(temp.width) * 3;
  for (int y = 0; y < height; ++y) {
    const int y0 = rows.first[y] - row_offset;
    for (size_t i = 0; i < stride; ++i) {
      int32_t sum = 1 << (kPrecisionBits - 1);
      for (int t = 0; t < rows.count[y]; ++t)
        sum += temp.pixels[static_cast<size_t>(y0 + t) * stride + i] * rows.weights[y][t];
      out.pixels[static_cast<size_t>(y) * stride + i] = clip8(sum);
    }
  }
  return out;
}

// Pillow's nearest scaling (ImagingScaleAffine): the sample position advances by the scale
// from half a step in, truncated.
Image resize_nearest(const Image& in, int width, int height) {
  const double sx = static_cast<double>(in.width) / width;
  const double sy = static_cast<double>(in.height) / height;
  std::vector<int> columns(static_cast<size_t>(width));
  double xo = sx * 0.5;
  for (int x = 0; x < width; ++x, xo += sx)
    columns[x] = std::min(static_cast<int>(xo), in.width - 1);
  Image out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(width) * height * 3);
  double yo = sy * 0.5;
  for (int y = 0; y < height; ++y, yo += sy) {
    const int yi = std::min(static_cast<int>(yo), in.height - 1);
    const uint8_t* src = in.pixels.data() + static_cast<size_t>(yi) * in.width * 3;
    uint8_t* dst = out.pixels.data() + static_cast<size_t>(y) * width * 3;
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) dst[x * 3 + c] = src[columns[x] * 3 + c];
  }
  return out;
}

Image crop(const Image& in, int x0, int y0, int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y)
    std::copy_n(in.pixels.data() + (static_cast<size_t>(y0 + y) * in.width + x0) * 3,
                static_cast<size_t>(width) * 3,
                out.pixels.data() + static_cast<size_t>(y) * width * 3);
  return out;
}

void append_slice(const Image& image, ImageSlices& out) {
  const size_t plane = static_cast<size_t>(image.width) * image.height;
  std::vector<float> values(3 * plane);
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < 3; ++c)
      values[c * plane + p] = (static_cast<float>(image.pixels[p * 3 + c]) / 255.0f - 0.5f) / 0.5f;
  out.shapes.push_back({3, image.height, image.width});
  out.values.push_back(std::move(values));
}

}  // namespace

SlicePlan plan_slices(int width, int height, const SliceOptions& o) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("plan_slices: empty image");
  SlicePlan plan;
  const double log_ratio = std::log(static_cast<double>(width) / height);
  const double ratio = static_cast<double>(width) * height / (double(o.resolution) * o.resolution);
  const int multiple = std::min(static_cast<int>(std::ceil(ratio)), o.max_slices);
  if (multiple > 1) {
    double best_error = std::numeric_limits<double>::infinity();
    int best_cols = 1, best_rows = 1;
    for (int count : {multiple - 1, multiple, multiple + 1}) {
      if (count == 1 || count > o.max_slices) continue;
      for (int m = 1; m <= count; ++m) {
        if (count % m != 0) continue;
        const double error = std::abs(log_ratio - std::log(static_cast<double>(m) / (count / m)));
        if (error < best_error) {
          best_error = error;
          best_cols = m;
          best_rows = count / m;
        }
      }
    }
    plan.grid_cols = best_cols;
    plan.grid_rows = best_rows;
  }
  if (plan.grid_cols == 0) {
    best_resize(width, height, o.resolution, o.patch, /*allow_upscale=*/true, &plan.source_width,
                &plan.source_height);
    return plan;
  }
  best_resize(width, height, o.resolution, o.patch, /*allow_upscale=*/false, &plan.source_width,
              &plan.source_height);
  // get_refine_size: each grid cell resized like a whole image (upscaling allowed).
  const int refine_w = ensure_divide(width, plan.grid_cols);
  const int refine_h = ensure_divide(height, plan.grid_rows);
  int cell_w = 0, cell_h = 0;
  best_resize(static_cast<double>(refine_w) / plan.grid_cols,
              static_cast<double>(refine_h) / plan.grid_rows, o.resolution, o.patch,
              /*allow_upscale=*/true, &cell_w, &cell_h);
  plan.refine_width = cell_w * plan.grid_cols;
  plan.refine_height = cell_h * plan.grid_rows;
  return plan;
}

std::pair<int, int> capped_size(int width, int height, int64_t max_pixels) {
  const int64_t area = static_cast<int64_t>(width) * height;
  if (area <= max_pixels) return {width, height};
  const double factor = std::sqrt(static_cast<double>(max_pixels) / static_cast<double>(area));
  return {std::max(static_cast<int>(width * factor), 1),
          std::max(static_cast<int>(height * factor), 1)};
}

Image cap_image_area(const Image& image, int64_t max_pixels) {
  const auto [width, height] = capped_size(image.width, image.height, max_pixels);
  if (width == image.width && height == image.height) return image;
  return resize_nearest(image, width, height);
}

Image resize_like_pillow(const Image& image, int width, int height, bool nearest) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("resize: sizes must be positive");
  if (width == image.width && height == image.height) return image;
  return nearest ? resize_nearest(image, width, height) : resize_bicubic(image, width, height);
}

ImageSlices slice_image(const Image& image, const SliceOptions& options) {
  const Image capped = cap_image_area(image, options.max_pixels);
  ImageSlices out;
  out.capped_width = capped.width;
  out.capped_height = capped.height;
  out.plan = plan_slices(capped.width, capped.height, options);
  const SlicePlan& plan = out.plan;
  append_slice(resize_like_pillow(capped, plan.source_width, plan.source_height, false), out);
  if (plan.grid_cols == 0) return out;
  const Image refined = resize_like_pillow(capped, plan.refine_width, plan.refine_height, false);
  // split_to_patches: cells of int(width / cols) x int(height / rows) pixels, row-major.
  const int cell_w = refined.width / plan.grid_cols;
  const int cell_h = refined.height / plan.grid_rows;
  for (int r = 0; r < plan.grid_rows; ++r)
    for (int c = 0; c < plan.grid_cols; ++c)
      append_slice(crop(refined, c * cell_w, r * cell_h, cell_w, cell_h), out);
  return out;
}

}  // namespace omnirm::media
