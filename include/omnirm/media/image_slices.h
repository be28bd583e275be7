// MiniCPM-V / MiniCPM-o image slicing, as MiniCPM-o-2.6's image processor and LLaMA-Factory's
// MiniCPM-V plugin do it, so that the MiniCPM-o path sees the pixels the reference sees:
//   1. the plugin caps the area at max_pixels (768² by default) with a nearest-neighbour
//      resize to floor(w·f) x floor(h·f), f = sqrt(max_pixels / (w·h));
//   2. the processor picks a grid of up to max_slices slices by aspect ratio (plan_slices),
//      resizes the whole image (bicubic) to about resolution² area with sides multiples of the
//      patch size — the "source" slice, upscaled when there is no grid —, and, with a grid,
//      resizes it to the refined size and cuts it row-major into cols x rows slices;
//   3. each slice becomes (v / 255 − 0.5) / 0.5.
// The resizes reproduce Pillow's (Image.NEAREST, and Image.BICUBIC with its antialiasing
// support, fixed-point coefficients and 8-bit rounding between the horizontal and vertical
// passes), so the slices match the reference's bit for bit on the same decoded pixels.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "omnirm/media/image.h"

namespace omnirm::media {

struct SlicePlan {
  int source_width = 0, source_height = 0;  // the whole image's slice (multiples of the patch)
  int grid_cols = 0, grid_rows = 0;         // 0 x 0: no further slices
  int refine_width = 0, refine_height = 0;  // the image resized before it is cut into the grid

  int slices() const { return 1 + grid_cols * grid_rows; }
};

struct SliceOptions {
  int max_slices = 9;              // max_slice_nums (2 for video frames, as the plugin passes)
  int resolution = 448;            // scale_resolution
  int patch = 14;                  // the vision tower's patch size
  int64_t max_pixels = 768 * 768;  // the plugin's image_resolution cap (256² for video frames)
};

// The grid and sizes for a width x height image (after the area cap).
SlicePlan plan_slices(int width, int height, const SliceOptions& options);

// The plugin's area cap: the image shrunk by nearest neighbour when width·height > max_pixels.
Image cap_image_area(const Image& image, int64_t max_pixels);
// The size cap_image_area gives a width x height image, as {width, height}.
std::pair<int, int> capped_size(int width, int height, int64_t max_pixels);

// Pillow's resize of an RGB image: Image.NEAREST (nearest = true) or Image.BICUBIC.
Image resize_like_pillow(const Image& image, int width, int height, bool nearest);

// The slices of an image, source first then the grid row-major, each [3, H, W] float in
// [-1, 1] (H, W multiples of options.patch), after the area cap.
struct ImageSlices {
  SlicePlan plan;
  int capped_width = 0, capped_height = 0;   // the size the plan was made for
  std::vector<std::vector<int64_t>> shapes;  // [3, H, W] per slice
  std::vector<std::vector<float>> values;    // row-major in the shape
};
ImageSlices slice_image(const Image& image, const SliceOptions& options);

}  // namespace omnirm::media
