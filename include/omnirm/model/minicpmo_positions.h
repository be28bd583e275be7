// The position information of MiniCPM-o-2.6's vision path, computed as its code computes it:
// SigLIP's NaViT position ids (each slice's h x w patch grid spread over the model's side x side
// position table by bucketising fractional coordinates in float32, as torch.bucketize does in
// the reference) and the resampler's 2-D sin-cos key positions (first half of the channels the
// patch column, second half its row; within each half sin then cos of pos * 10000^(-i / (D/4))).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace omnirm::model {

// Position-table rows of an h x w patch grid, row-major: [h * w] int64 in [0, side²).
at::Tensor navit_position_ids(int64_t h, int64_t w, int64_t side);

// Key positions of an h x w patch grid, row-major: [h * w, dim] float32 (dim divisible by 4).
at::Tensor sincos_positions_2d(int64_t dim, int64_t h, int64_t w);

// The square patches of image [3, H, W] (H, W multiples of `patch`), row-major over the grid,
// each flattened channel-major as a Conv2d weight [D, 3, patch, patch] is: [(H/p)·(W/p), 3·p·p].
at::Tensor image_patches(const at::Tensor& image, int64_t patch);

// Whisper's chunked causal mask of MiniCPM-o (subsequent_chunk_mask with full left context):
// [frames, frames] bool, row i may attend to columns [0, min((i / chunk + 1) * chunk, frames)).
at::Tensor chunked_causal_mask(int64_t frames, int64_t chunk);

}  // namespace omnirm::model
