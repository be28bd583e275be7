// Raster drawing for the media writers (see media_write.h): solid images and filled circles,
// squares and triangles, decided per pixel centre so the result holds exact colours.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "omnirm/media/media_write.h"

namespace omnirm::media {
namespace {

// The pixel range [first, last] whose centres can lie in [low, high], clipped to [0, size).
void covered_pixels(double low, double high, int size, int* first, int* last) {
  *first = std::max(0, static_cast<int>(std::floor(low - 0.5)));
  *last = std::min(size - 1, static_cast<int>(std::ceil(high - 0.5)));
}

void set_pixel(Image& image, int x, int y, Rgb colour) {
  uint8_t* pixel = image.pixels.data() + (static_cast<size_t>(y) * image.width + x) * 3;
  pixel[0] = colour.r;
  pixel[1] = colour.g;
  pixel[2] = colour.b;
}

// Twice the signed area of (a, b, p): positive when p lies left of a -> b (y down).
double edge(Point2 a, Point2 b, Point2 p) {
  return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
}

}  // namespace

Image solid_image(int width, int height, Rgb colour) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("solid_image: sides must be positive");
  }
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    image.pixels[i] = colour.r;
    image.pixels[i + 1] = colour.g;
    image.pixels[i + 2] = colour.b;
  }
  return image;
}

void fill_triangle(Image& image, Point2 a, Point2 b, Point2 c, Rgb colour) {
  const double area = edge(a, b, c);
  if (std::abs(area) < 1e-12) return;
  const double sign = area > 0 ? 1.0 : -1.0;
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  covered_pixels(std::min({a.x, b.x, c.x}), std::max({a.x, b.x, c.x}), image.width, &x0, &x1);
  covered_pixels(std::min({a.y, b.y, c.y}), std::max({a.y, b.y, c.y}), image.height, &y0, &y1);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const Point2 p{x + 0.5, y + 0.5};
      if (sign * edge(a, b, p) >= 0 && sign * edge(b, c, p) >= 0 && sign * edge(c, a, p) >= 0) {
        set_pixel(image, x, y, colour);
      }
    }
  }
}

void fill_shape(Image& image, ShapeKind shape, Point2 centre, double radius, Rgb colour) {
  if (shape == ShapeKind::triangle) {
    // Equilateral, apex up, centred on its circumcentre.
    const double half_base = radius * std::sqrt(3.0) / 2.0;
    fill_triangle(image, Point2{centre.x, centre.y - radius},
                  Point2{centre.x + half_base, centre.y + radius / 2.0},
                  Point2{centre.x - half_base, centre.y + radius / 2.0}, colour);
    return;
  }
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  covered_pixels(centre.x - radius, centre.x + radius, image.width, &x0, &x1);
  covered_pixels(centre.y - radius, centre.y + radius, image.height, &y0, &y1);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const double dx = x + 0.5 - centre.x;
      const double dy = y + 0.5 - centre.y;
      const bool inside = shape == ShapeKind::circle
                              ? dx * dx + dy * dy <= radius * radius
                              : std::abs(dx) <= radius && std::abs(dy) <= radius;
      if (inside) set_pixel(image, x, y, colour);
    }
  }
}

}  // namespace omnirm::media
