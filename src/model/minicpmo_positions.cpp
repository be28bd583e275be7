// Implementation of model/minicpmo_positions.h.
#include "omnirm/model/minicpmo_positions.h"

#include <ATen/ATen.h>

#include <cmath>

namespace omnirm::model {

at::Tensor navit_position_ids(int64_t h, int64_t w, int64_t side) {
  TORCH_CHECK(h > 0 && w > 0 && side > 0, "navit positions: sizes must be positive");
  // The reference computes these in float32 with torch's own arange and bucketize: the same
  // ops here give the same buckets, also where a coordinate falls on a bucket boundary.
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor boundaries = at::arange(1.0 / double(side), 1.0, 1.0 / double(side), f32);
  auto coords = [&](int64_t n) {
    const float step = 1.0f / static_cast<float>(n);  // 1 / int32 tensor: a float32 step
    return at::arange(0.0, 1.0 - 1e-6, static_cast<double>(step), f32);
  };
  const at::Tensor rows = at::bucketize(coords(h), boundaries, /*out_int32=*/false, /*right=*/true);
  const at::Tensor cols = at::bucketize(coords(w), boundaries, /*out_int32=*/false, /*right=*/true);
  TORCH_CHECK(rows.size(0) == h && cols.size(0) == w, "navit positions: grid ", h, "x", w,
              " gives ", rows.size(0), "x", cols.size(0), " coordinates");
  return (rows.unsqueeze(1) * side + cols.unsqueeze(0)).flatten();
}

at::Tensor sincos_positions_2d(int64_t dim, int64_t h, int64_t w) {
  TORCH_CHECK(dim % 4 == 0, "2-D sin-cos positions need a width divisible by 4, got ", dim);
  const int64_t quarter = dim / 4;
  // ω_i = 1 / 10000^(i / (dim / 4)), in float32 as numpy computes it in the reference.
  const at::Tensor omega =
      1.0 / at::pow(10000.0, at::arange(quarter, at::kFloat) / static_cast<float>(quarter));
  auto encode = [&](const at::Tensor& pos) {  // [h, w] → [h, w, dim / 2]
    const at::Tensor angles = pos.unsqueeze(-1) * omega;
    return at::cat({angles.sin(), angles.cos()}, -1);
  };
  const at::Tensor row = at::arange(h, at::kFloat).unsqueeze(1).expand({h, w});
  const at::Tensor col = at::arange(w, at::kFloat).unsqueeze(0).expand({h, w});
  return at::cat({encode(col), encode(row)}, -1).reshape({h * w, dim});
}

at::Tensor image_patches(const at::Tensor& image, int64_t patch) {
  TORCH_CHECK(image.dim() == 3 && image.size(0) == 3 && image.size(1) % patch == 0 &&
                  image.size(2) % patch == 0,
              "image patches: the image must be [3, H, W] with H and W multiples of ", patch,
              ", got ", image.sizes());
  const int64_t h = image.size(1) / patch, w = image.size(2) / patch;
  return image.reshape({3, h, patch, w, patch})
      .permute({1, 3, 0, 2, 4})  // [h, w, 3, p, p]
      .reshape({h * w, 3 * patch * patch});
}

at::Tensor chunked_causal_mask(int64_t frames, int64_t chunk) {
  TORCH_CHECK(frames > 0 && chunk > 0, "chunked mask: sizes must be positive");
  const at::Tensor row_end = (at::arange(frames, at::kLong).div(chunk, "floor") + 1) * chunk;
  return at::arange(frames, at::kLong).unsqueeze(0) < row_end.clamp_max(frames).unsqueeze(1);
}

}  // namespace omnirm::model
