// Implementation of model/audio_tower.h.
#include "omnirm/model/audio_tower.h"

#include <ATen/ATen.h>

#include <cmath>

#include "omnirm/model/minicpmo_positions.h"

namespace omnirm::model {

namespace {

// Whisper's sinusoids: [length, channels], sin in the first half, cos in the second.
at::Tensor sinusoids(int64_t length, int64_t channels) {
  const double log_increment = std::log(10000.0) / double(channels / 2 - 1);
  at::Tensor inv = at::exp(-log_increment * at::arange(channels / 2, at::kDouble));
  at::Tensor t = at::arange(length, at::kDouble).unsqueeze(1) * inv.unsqueeze(0);
  return at::cat({t.sin(), t.cos()}, 1).to(at::kFloat);
}

}  // namespace

AudioTowerImpl::AudioTowerImpl(const AudioTowerOptions& o) : options_(o) {
  conv1_ = register_module(
      "conv1",
      torch::nn::Conv1d(torch::nn::Conv1dOptions(o.num_mel_bins, o.hidden_size, 3).padding(1)));
  conv2_ = register_module(
      "conv2", torch::nn::Conv1d(
                   torch::nn::Conv1dOptions(o.hidden_size, o.hidden_size, 3).padding(1).stride(2)));
  embed_positions_ =
      register_buffer("embed_positions", sinusoids(o.max_source_positions, o.hidden_size));
  layers_ = register_module("layers", torch::nn::ModuleList());
  EncoderLayerOptions layer{o.hidden_size, o.num_heads, o.intermediate_size, 1e-5};
  layer.key_bias = false;
  layer.gelu_tanh = false;
  layer.names = EncoderLayerNames::whisper();
  for (int64_t i = 0; i < o.num_layers; ++i) layers_->push_back(EncoderLayer(layer));
  layer_norm_ = register_module("layer_norm",
                                torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size})));
  auto projection =
      register_module("audio_projection_layer", std::make_shared<torch::nn::Module>());
  linear1_ = projection->register_module("linear1", torch::nn::Linear(o.hidden_size, o.out_dim));
  linear2_ = projection->register_module("linear2", torch::nn::Linear(o.out_dim, o.out_dim));
}

int64_t AudioTowerImpl::tokens_for_frames(int64_t frames) const {
  return ((frames + 1) / 2) / options_.pool_stride;
}

at::Tensor AudioTowerImpl::encode(const at::Tensor& mel, const at::Tensor& attn_mask) {
  TORCH_CHECK(mel.dim() == 3 && mel.size(1) == options_.num_mel_bins,
              "audio tower: mel must be [B, ", options_.num_mel_bins, ", T], got ", mel.sizes());
  at::Tensor h = at::gelu(conv2_->forward(at::gelu(conv1_->forward(mel))));  // [B, D, T']
  h = h.transpose(1, 2);                                                     // [B, T', D]
  TORCH_CHECK(h.size(1) <= options_.max_source_positions, "audio tower: ", h.size(1),
              " frames exceed max_source_positions ", options_.max_source_positions);
  h = h + embed_positions_.narrow(0, 0, h.size(1)).to(h.dtype()).unsqueeze(0);
  h = run_encoder_layers(layers_, h, checkpoint_every_, {}, attn_mask);
  return layer_norm_->forward(h);
}

at::Tensor AudioTowerImpl::forward_chunk(const at::Tensor& mel) {
  TORCH_CHECK(options_.minicpmo, "audio tower: forward_chunk is the minicpmo tower's");
  TORCH_CHECK(mel.dim() == 3 && mel.size(0) == 1, "audio tower: a chunk is [1, mels, T], got ",
              mel.sizes());
  const int64_t frames = (mel.size(2) - 1) / 2 + 1;  // after the stride-2 convolution
  const at::Tensor mask = chunked_causal_mask(frames, options_.chunk_frames).to(mel.device());
  at::Tensor h = encode(mel, mask);  // [1, T', D]
  h = linear2_->forward(at::relu(linear1_->forward(h)));
  const int64_t pool = options_.pool_stride;
  TORCH_CHECK(h.size(1) >= pool, "audio tower: a chunk of ", mel.size(2),
              " mel frames is too short to pool");
  h = at::avg_pool1d(h.transpose(1, 2), {pool}, {pool}).transpose(1, 2);
  return h.squeeze(0);
}

at::Tensor AudioTowerImpl::forward(const at::Tensor& mel) {
  TORCH_CHECK(!options_.minicpmo, "audio tower: the minicpmo tower takes forward_chunk");
  at::Tensor h = encode(mel);  // [B, T', D]
  const int64_t tokens = h.size(1) / options_.pool_stride;
  TORCH_CHECK(tokens > 0, "audio tower: clip too short for pool_stride ", options_.pool_stride);
  h = at::avg_pool1d(h.narrow(1, 0, tokens * options_.pool_stride).transpose(1, 2),
                     {options_.pool_stride}, {options_.pool_stride})
          .transpose(1, 2);  // [B, tokens, D]
  return linear2_->forward(at::gelu(linear1_->forward(h)));
}

}  // namespace omnirm::model
