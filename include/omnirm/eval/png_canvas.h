// A small RGB raster with rectangles and a built-in 5x7 bitmap font, saved as PNG (zlib).
// Enough to draw charts without a plotting library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::eval {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background);

  void fill_rect(int x, int y, int width, int height, Rgb colour);  // clipped to the canvas
  // A straight line from (x0, y0) to (x1, y1), both ends included, `thickness` pixels wide.
  void draw_line(int x0, int y0, int x1, int y1, Rgb colour, int thickness = 1);
  // Draws text with its top-left corner at (x, y); `scale` multiplies the 5x7 glyphs.
  // Characters without a glyph are drawn as a hollow box.
  void draw_text(int x, int y, const std::string& text, Rgb colour, int scale = 1);
  static int text_width(const std::string& text, int scale = 1);  // in pixels

  Rgb pixel(int x, int y) const;
  int width() const { return width_; }
  int height() const { return height_; }

  // Writes an 8-bit RGB PNG; throws UserError if the file cannot be written.
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;  // RGB rows, top to bottom
};

}  // namespace omnirm::eval
