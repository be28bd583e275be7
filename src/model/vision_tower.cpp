// Implementation of model/vision_tower.h.
#include "omnirm/model/vision_tower.h"

#include <ATen/ATen.h>

#include <cmath>

#include "omnirm/model/minicpmo_positions.h"
#include "omnirm/model/motion_energy.h"

namespace omnirm::model {

VisionTowerImpl::VisionTowerImpl(const VisionTowerOptions& o)
    : temporal_patch_(o.temporal_patch), motion_channels_(o.motion_channels) {
  TORCH_CHECK(o.image_size % o.patch_size == 0, "vision tower: image_size ", o.image_size,
              " is not a multiple of patch_size ", o.patch_size);
  const int64_t side = o.image_size / o.patch_size;
  num_patches_ = side * side;
  const int64_t in_channels =
      3 * o.temporal_patch + (o.motion_channels ? motion_energy_channels(o.temporal_patch) : 0);
  auto embeddings = register_module("embeddings", std::make_shared<torch::nn::Module>());
  patch_embedding_ = embeddings->register_module(
      "patch_embedding",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(in_channels, o.hidden_size, o.patch_size).stride(o.patch_size)));
  position_embedding_ = embeddings->register_module(
      "position_embedding", torch::nn::Embedding(num_patches_, o.hidden_size));
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  layers_ = encoder->register_module("layers", torch::nn::ModuleList());
  EncoderLayerOptions layer{o.hidden_size, o.num_heads, o.intermediate_size, o.layer_norm_eps};
  for (int64_t i = 0; i < o.num_layers; ++i) layers_->push_back(EncoderLayer(layer));
  post_layernorm_ = register_module(
      "post_layernorm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
}

at::Tensor VisionTowerImpl::forward(const at::Tensor& pixels) {
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == 3 * temporal_patch_,
              "vision tower: pixels must be [B, ", 3 * temporal_patch_, ", S, S], got ",
              pixels.sizes());
  const at::Tensor input =
      motion_channels_ ? at::cat({pixels, motion_energy(pixels, temporal_patch_)}, 1) : pixels;
  at::Tensor patches = patch_embedding_->forward(input).flatten(2).transpose(1, 2);  // [B, P, D]
  TORCH_CHECK(patches.size(1) == num_patches_, "vision tower: expected ", num_patches_,
              " patches, the image gives ", patches.size(1));
  at::Tensor hidden = patches + position_embedding_->weight.unsqueeze(0);
  hidden = run_encoder_layers(layers_, hidden, checkpoint_every_);
  return post_layernorm_->forward(hidden);
}

at::Tensor VisionTowerImpl::forward_patches(const at::Tensor& patches,
                                            const at::Tensor& position_ids,
                                            const at::Tensor& key_mask) {
  TORCH_CHECK(temporal_patch_ == 1 && !motion_channels_,
              "vision tower: NaViT slices need video_temporal_patch 1 and no motion channels");
  const at::Tensor& weight = patch_embedding_->weight;  // [D, 3, p, p]
  TORCH_CHECK(patches.dim() == 3 && patches.size(2) == weight[0].numel(),
              "vision tower: patches must be [B, P, ", weight[0].numel(), "], got ",
              patches.sizes());
  TORCH_CHECK(position_ids.sizes() == patches.sizes().slice(0, 2) &&
                  key_mask.sizes() == patches.sizes().slice(0, 2),
              "vision tower: position_ids and key_mask must be [B, P] like the patches");
  // A stride-p convolution over one patch is this linear map of the flattened patch.
  at::Tensor hidden =
      at::linear(patches.to(weight.scalar_type()), weight.flatten(1), patch_embedding_->bias);
  hidden = hidden + position_embedding_->forward(position_ids);
  hidden = run_encoder_layers(layers_, hidden, checkpoint_every_, key_mask);
  return post_layernorm_->forward(hidden);
}

namespace {

// [queries, side²]: −locality · (distance of each patch from the query's cell centre / cell)².
at::Tensor make_locality_bias(int64_t queries, int64_t side, double locality) {
  const auto cells = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(queries))));
  const double cell = static_cast<double>(side) / static_cast<double>(cells);
  at::Tensor bias = at::empty({queries, side * side}, at::kFloat);
  auto out = bias.accessor<float, 2>();
  for (int64_t q = 0; q < queries; ++q) {
    const double centre_row = (static_cast<double>(q / cells) + 0.5) * cell - 0.5;
    const double centre_col = (static_cast<double>(q % cells) + 0.5) * cell - 0.5;
    for (int64_t p = 0; p < side * side; ++p) {
      const double dr = (static_cast<double>(p / side) - centre_row) / cell;
      const double dc = (static_cast<double>(p % side) - centre_col) / cell;
      out[q][p] = static_cast<float>(-locality * (dr * dr + dc * dc));
    }
  }
  return bias;
}

}  // namespace

ResamplerImpl::ResamplerImpl(const ResamplerOptions& o) : options_(o) {
  if (o.locality > 0.0) {
    TORCH_CHECK(o.grid_side > 0, "resampler: locality needs the patch grid side");
    locality_bias_ = make_locality_bias(o.num_queries, o.grid_side, o.locality);
  }
  query_ = register_parameter("query", at::randn({o.num_queries, o.embed_dim}) * 0.02);
  // MiniCPM-o's kv_proj is an identity (no tensor) when the widths agree.
  if (!o.minicpmo || o.kv_dim != o.embed_dim) {
    kv_proj_ = register_module(
        "kv_proj", torch::nn::Linear(torch::nn::LinearOptions(o.kv_dim, o.embed_dim).bias(false)));
  }
  attn_ =
      register_module("attn", torch::nn::MultiheadAttention(
                                  torch::nn::MultiheadAttentionOptions(o.embed_dim, o.num_heads)));
  auto norm = [&] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.embed_dim}).eps(1e-6));
  };
  ln_q_ = register_module("ln_q", norm());
  ln_kv_ = register_module("ln_kv", norm());
  ln_post_ = register_module("ln_post", norm());
  if (!o.minicpmo) {
    temporal_embedding_ =
        register_module("temporal_embedding", torch::nn::Embedding(o.max_frames, o.embed_dim));
  }
  proj_ = register_module(
      "proj", torch::nn::Linear(torch::nn::LinearOptions(o.embed_dim, o.out_dim).bias(false)));
}

at::Tensor ResamplerImpl::forward_grid(const at::Tensor& features, const at::Tensor& key_mask,
                                       const at::Tensor& grids) {
  TORCH_CHECK(options_.minicpmo, "resampler: forward_grid is the minicpmo resampler's");
  const int64_t b = features.size(0), p = features.size(1);
  TORCH_CHECK(key_mask.dim() == 2 && key_mask.size(0) == b && key_mask.size(1) == p,
              "resampler: key_mask must be [B, P] = [", b, ", ", p, "]");
  TORCH_CHECK(grids.dim() == 2 && grids.size(0) == b && grids.size(1) == 2,
              "resampler: grids must be [B, 2]");
  at::Tensor kv = kv_proj_.is_empty() ? features : kv_proj_->forward(features);
  kv = ln_kv_->forward(kv);  // [B, P, E]
  // Each item's key positions, zero on its padded patches (which the mask hides).
  at::Tensor positions = at::zeros_like(kv);
  TORCH_CHECK(grids.device().is_cpu(), "resampler: grids are shape metadata, kept on the CPU");
  const at::Tensor grid_cpu = grids.to(at::kLong).contiguous();
  const auto grid = grid_cpu.accessor<int64_t, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const int64_t h = grid[i][0], w = grid[i][1];
    TORCH_CHECK(h * w <= p, "resampler: a ", h, "x", w, " grid exceeds the ", p, " patches");
    positions[i]
        .narrow(0, 0, h * w)
        .copy_(sincos_positions_2d(options_.embed_dim, h, w).to(kv.device(), kv.scalar_type()));
  }
  // The attention is computed here from the MultiheadAttention module's own weights (the
  // checkpoint keeps its names) rather than through its forward: LibTorch's C++ forward applies
  // a key_padding_mask with a masked_fill dispatched for float and double only, so a bf16
  // resampler could not hide the padded keys. SDPA takes the mask [B, 1, 1, P] (true where a
  // key is attended) in any dtype, as PyTorch's own MultiheadAttention does when no weights
  // are asked for.
  const int64_t e = options_.embed_dim, heads = options_.num_heads, d = e / heads;
  const at::Tensor& in_weight = attn_->in_proj_weight;  // [3E, E]: query, key and value rows
  const at::Tensor& in_bias = attn_->in_proj_bias;      // [3E]
  const auto project = [&](const at::Tensor& x, int64_t part) {  // [B, L, E] -> [B, H, L, d]
    const at::Tensor y =
        at::linear(x, in_weight.narrow(0, part * e, e), in_bias.narrow(0, part * e, e));
    return y.view({b, x.size(1), heads, d}).transpose(1, 2);
  };
  const at::Tensor q = ln_q_->forward(query_).unsqueeze(0).expand({b, -1, -1});  // [B, Q, E]
  const at::Tensor attended =
      at::scaled_dot_product_attention(project(q, 0), project(kv + positions, 1), project(kv, 2),
                                       key_mask.to(at::kBool).view({b, 1, 1, p}));  // [B, H, Q, d]
  const at::Tensor merged = attended.transpose(1, 2).reshape({b, -1, e});           // [B, Q, E]
  return proj_->forward(ln_post_->forward(attn_->out_proj->forward(merged)));  // [B, Q, out_dim]
}

at::Tensor ResamplerImpl::forward(const at::Tensor& features, const at::Tensor& frame_index) {
  TORCH_CHECK(!options_.minicpmo, "resampler: the minicpmo resampler takes forward_grid");
  const int64_t b = features.size(0);
  TORCH_CHECK(frame_index.dim() == 1 && frame_index.size(0) == b,
              "resampler: frame_index must be [B]");
  // Frame positions are checked on the host (model/media_checks.h): reading them here would
  // wait for the device. An index past the table fails inside the embedding lookup.
  at::Tensor kv = ln_kv_->forward(kv_proj_->forward(features));                   // [B, P, E]
  at::Tensor time = temporal_embedding_->forward(frame_index).unsqueeze(1);       // [B, 1, E]
  at::Tensor q = ln_q_->forward(query_).unsqueeze(0).expand({b, -1, -1}) + time;  // [B, Q, E]
  at::Tensor bias;  // [Q, P], added to every head's logits
  if (locality_bias_.defined()) {
    TORCH_CHECK(features.size(1) == locality_bias_.size(1), "resampler: ", features.size(1),
                " patches, the locality grid has ", locality_bias_.size(1));
    bias = locality_bias_.to(kv.device(), kv.scalar_type());
  }
  // torch's MultiheadAttention takes [L, B, E].
  auto [out, weights] = attn_->forward(q.transpose(0, 1), (kv + time).transpose(0, 1),
                                       kv.transpose(0, 1), {}, /*need_weights=*/false, bias);
  return proj_->forward(ln_post_->forward(out.transpose(0, 1)));  // [B, Q, out_dim]
}

}  // namespace omnirm::model
