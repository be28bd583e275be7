// Audio: a Whisper-style encoder (two convolutions over the log-mel frames, the second with
// stride 2, fixed sinusoidal positions, pre-norm encoder layers, final LayerNorm), then
// average pooling over time and a two-layer projector to the backbone width (MiniCPM-o's
// audio projection). Parameter names follow HF Whisper's encoder.
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
};

class AudioTowerImpl : public torch::nn::Module {
 public:
  explicit AudioTowerImpl(const AudioTowerOptions& options);
  // mel [B, num_mel_bins, T] → [B, ceil(T/2) / pool_stride, out_dim]: encode, then pooling
  // and the projector
  at::Tensor forward(const at::Tensor& mel);
  // The Whisper encoder alone: mel [B, num_mel_bins, T] → [B, ceil(T/2), hidden], after the
  // final LayerNorm (HF WhisperEncoder's last_hidden_state)
  at::Tensor encode(const at::Tensor& mel);
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
