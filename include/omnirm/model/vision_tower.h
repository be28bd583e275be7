// Vision: a SigLIP-style ViT (patch embedding, learned positions, pre-norm encoder, post
// LayerNorm) and a perceiver resampler (MiniCPM-V style: learned queries cross-attend to the
// patch features, then project to the backbone width). Video frames go through the same
// tower; the resampler adds a temporal position embedding per frame so the backbone can
// tell the frames' order. With temporal_patch T > 1 a patch spans T consecutive frames (a
// tubelet, as in Qwen2-VL): the patch embedding sees 3·T channels, so motion between the T
// frames is in the first features; a still image enters as T copies of itself. With
// motion_channels the patch embedding also sees the tubelet's motion-energy maps
// (model/motion_energy.h), 2·(T−1) more channels, zero for still images. Parameter names
// follow HF SigLIP ("embeddings.*", "encoder.layers.*", "post_layernorm") and MiniCPM-V ("query",
// "kv_proj", "attn", "ln_q", "ln_kv", "ln_post", "proj").
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "omnirm/model/encoder_layer.h"

namespace omnirm::model {

struct VisionTowerOptions {
  int64_t image_size = 64;  // input images are resized to image_size x image_size
  int64_t patch_size = 16;
  int64_t hidden_size = 64;
  int64_t num_layers = 2;
  int64_t num_heads = 4;
  int64_t intermediate_size = 256;
  double layer_norm_eps = 1e-6;
  int64_t temporal_patch = 1;    // frames per patch
  bool motion_channels = false;  // append motion_energy(pixels) to the patch embedding's input
};

class VisionTowerImpl : public torch::nn::Module {
 public:
  explicit VisionTowerImpl(const VisionTowerOptions& options);
  // pixels [B, 3·T, S, S] float in [-1, 1] (S = image_size, T = temporal_patch; channels
  // frame-major) → patch features [B, P, hidden]
  at::Tensor forward(const at::Tensor& pixels);
  // MiniCPM-o's NaViT pass over slices of any aspect ratio: patches [B, P, 3·p·p] (each
  // slice's patches row-major, zero rows after its own, see image_patches), position_ids
  // [B, P] int64 rows of the position table (navit_position_ids), key_mask [B, P] bool (true =
  // a real patch; padded patches are never attended to) → [B, P, hidden] after post_layernorm.
  // Needs temporal_patch 1 and no motion channels.
  at::Tensor forward_patches(const at::Tensor& patches, const at::Tensor& position_ids,
                             const at::Tensor& key_mask);
  int64_t num_patches() const { return num_patches_; }
  // Checkpoints encoder layers 0, k, 2k, ... (k = `every`; 0: none).
  void set_activation_checkpointing(int64_t every) { checkpoint_every_ = every; }

 private:
  int64_t checkpoint_every_ = 0;
  int64_t num_patches_;
  int64_t temporal_patch_;
  bool motion_channels_;
  torch::nn::Conv2d patch_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm post_layernorm_{nullptr};
};
TORCH_MODULE(VisionTower);

struct ResamplerOptions {
  int64_t num_queries = 16;  // tokens per image (or per video frame) given to the backbone
  // Width of the cross-attention: the vision width by default (model.resampler_hidden 0),
  // the backbone's in MiniCPM-o-2.6 (kv_proj then maps vision → backbone width).
  int64_t embed_dim = 64;
  int64_t num_heads = 4;
  int64_t kv_dim = 64;      // the vision tower's hidden size
  int64_t out_dim = 128;    // the backbone's hidden size
  int64_t max_frames = 64;  // temporal positions available for video
  // Spatial prior: with locality > 0 and grid_side patches per side, query q looks first at
  // its own cell of a ceil(sqrt(num_queries))² grid over the image: its attention logits get
  // −locality · d² / cell² added, d the distance of a patch from the cell's centre (in
  // patches). The queries keep their image regions apart from the first step, so where a thing
  // is survives the resampling; 0 leaves plain learned-query attention.
  double locality = 0.0;
  int64_t grid_side = 0;
  // MiniCPM-o-2.6's resampler (model.arch minicpmo): no temporal embedding, kv_proj only
  // when kv_dim differs from embed_dim (an identity otherwise), keys with 2-D sin-cos
  // positions of their patch, padded keys masked; use forward_grid.
  bool minicpmo = false;
};

class ResamplerImpl : public torch::nn::Module {
 public:
  explicit ResamplerImpl(const ResamplerOptions& options);
  // features [B, P, kv_dim]; frame_index [B] int64 (position of each image in its video, 0
  // for still images) → [B, num_queries, out_dim]
  at::Tensor forward(const at::Tensor& features, const at::Tensor& frame_index);
  // The minicpmo resampler: features [B, P, kv_dim] (each slice's patches row-major, padded),
  // key_mask [B, P] bool (true = real patch), grids [B, 2] int64 (patch rows h, columns w;
  // h·w real patches) → [B, num_queries, out_dim].
  at::Tensor forward_grid(const at::Tensor& features, const at::Tensor& key_mask,
                          const at::Tensor& grids);

 private:
  ResamplerOptions options_;
  at::Tensor query_;
  torch::nn::Linear kv_proj_{nullptr};
  torch::nn::MultiheadAttention attn_{nullptr};
  torch::nn::LayerNorm ln_q_{nullptr}, ln_kv_{nullptr}, ln_post_{nullptr};
  torch::nn::Embedding temporal_embedding_{nullptr};
  torch::nn::Linear proj_{nullptr};
  at::Tensor locality_bias_;  // [num_queries, grid_side²] or undefined
};
TORCH_MODULE(Resampler);

}  // namespace omnirm::model
