// Audio: a Whisper-style encoder (two convolutions over the log-mel frames, the second with
// stride 2, fixed sinusoidal positions, pre-norm encoder layers, final LayerNorm), then
// average pooling over time and a two-layer projector to the backbone width. With
// `minicpmo` (model.arch minicpmo) it computes what MiniCPM-o-2.6 does instead: each 30 s chunk
// of its own length under a chunked causal attention mask, then the projector linear → ReLU →
// linear, then average pooling by pool_stride (forward_chunk). Parameter names follow HF
// Whisper's encoder and MiniCPM-o's audio_projection_layer.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "omnirm/model/encoder_layer.h"

namespace omnirm::model {

struct AudioTowerOptions {
  int64_t num_mel_bins = 80;
  int64_t hidden_size = 64;
  int64_t num_layers = 2;
  int64_t num_heads = 4;
  int64_t intermediate_size = 256;
  int64_t max_source_positions = 1500;  // frames after the stride-2 convolution
  int64_t pool_stride = 2;              // average pooling over time before the projector
  int64_t out_dim = 128;                // the backbone's hidden size
  bool minicpmo = false;
  int64_t chunk_frames = 50;  // minicpmo: encoder frames per attention chunk (1 s)
};

class AudioTowerImpl : public torch::nn::Module {
 public:
  explicit AudioTowerImpl(const AudioTowerOptions& options);
  // mel [B, num_mel_bins, T] → [B, ceil(T/2) / pool_stride, out_dim]: encode, then pooling
  // and the projector
  at::Tensor forward(const at::Tensor& mel);
  // The Whisper encoder alone: mel [B, num_mel_bins, T] → [B, ceil(T/2), hidden], after the
  // final LayerNorm (HF WhisperEncoder's last_hidden_state)
  at::Tensor encode(const at::Tensor& mel, const at::Tensor& attn_mask = {});
  // The minicpmo tower over one chunk: mel [1, num_mel_bins, T] (T ≤ 2·max_source_positions,
  // its own length, unpadded) → [floor(ceil(T/2) / pool_stride), out_dim].
  at::Tensor forward_chunk(const at::Tensor& mel);
  // Tokens the backbone receives for T mel frames.
  int64_t tokens_for_frames(int64_t frames) const;
  // Checkpoints encoder layers 0, k, 2k, ... (k = `every`; 0: none).
  void set_activation_checkpointing(int64_t every) { checkpoint_every_ = every; }

 private:
  int64_t checkpoint_every_ = 0;
  AudioTowerOptions options_;
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr};
  at::Tensor embed_positions_;  // [max_source_positions, hidden] sinusoidal, not trained
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm layer_norm_{nullptr};
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr};
};
TORCH_MODULE(AudioTower);

}  // namespace omnirm::model
