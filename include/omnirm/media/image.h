// Image decoding: PNG and JPEG (stb_image) and WebP (libwebp) into 8-bit RGB, with an
// optional downscale to a maximum side. Multi-view 3D renders are plain images and use the
// same decoder. The format is taken from the file's bytes, not its extension.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "omnirm/media/limits.h"

namespace omnirm::media {

// RGB, 8 bits per channel, rows top to bottom: pixels[(y * width + x) * 3 + c],
// shape [height, width, 3] (HWC), uint8.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  size_t byte_size() const { return pixels.size(); }
};

struct ImageOptions {
  // 0: keep the decoded size. Otherwise an image whose larger side exceeds max_side is
  // shrunk (aspect kept, area filter, see resize_image_area); smaller images are not enlarged.
  int max_side = 0;
};

// Decodes the file at `path`. Throws omnirm::UserError "<path>: what; what to do" when the
// file is missing, larger than the limits, truncated, corrupt, or not a PNG/JPEG/WebP image.
Image decode_image(const std::string& path, const ImageOptions& options = {},
                   const MediaLimits& limits = {});

// The same, for bytes already in memory; `name` is used in messages in place of a path.
Image decode_image_bytes(std::span<const uint8_t> bytes, const std::string& name,
                         const ImageOptions& options = {}, const MediaLimits& limits = {});

// Area (box) filter resize: each output pixel is the average of the source pixels it
// covers, weighted by the covered fraction of each, rounded to nearest. Exact for integer
// factors (a 2x shrink averages 2x2 blocks); preserves mean colour; no ringing.
Image resize_image_area(const Image& image, int width, int height);

// The size that fits `width` x `height` inside max_side x max_side with the aspect ratio kept
// (each side rounded to nearest, at least 1). Returns the input size when it already fits or
// when max_side <= 0.
void fit_to_max_side(int width, int height, int max_side, int* fitted_width, int* fitted_height);

}  // namespace omnirm::media
