// The pre-norm transformer encoder layer shared by the media towers (SigLIP-style vision,
// Whisper-style audio, point patches): LayerNorm → bidirectional multi-head attention with
// biases → residual, LayerNorm → GELU MLP → residual. Parameter names follow the HF layout
// of the tower that uses it (SigLIP: layer_norm1 / mlp.fc1; Whisper: self_attn_layer_norm /
// fc1), so that pretrained weights map by name.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace omnirm::model {

struct EncoderLayerNames {
  std::string norm_before_attention;  // "layer_norm1" | "self_attn_layer_norm"
  std::string norm_before_mlp;        // "layer_norm2" | "final_layer_norm"
  std::string mlp_prefix;             // "mlp" (SigLIP: mlp.fc1) | "" (Whisper: fc1)
  static EncoderLayerNames siglip();
  static EncoderLayerNames whisper();
};

struct EncoderLayerOptions {
  int64_t hidden_size = 64;
  int64_t num_heads = 4;
  int64_t intermediate_size = 256;
  double layer_norm_eps = 1e-6;
  bool key_bias = true;   // Whisper's k_proj has no bias
  bool gelu_tanh = true;  // SigLIP: tanh-approximated GELU; Whisper: exact GELU
  EncoderLayerNames names = EncoderLayerNames::siglip();
};

// Multi-head attention over [B, L, D] with an optional key mask and an optional query-key mask.
class EncoderAttentionImpl : public torch::nn::Module {
 public:
  explicit EncoderAttentionImpl(const EncoderLayerOptions& options);
  // hidden [B, L, D]; key_mask [B, L] bool (true = real token) or undefined; attn_mask [L, L]
  // bool (true = query row may attend to key column) or undefined → [B, L, D]
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& key_mask = {},
                     const at::Tensor& attn_mask = {});

 private:
  int64_t num_heads_, head_dim_;
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr}, out_proj_{nullptr};
};
TORCH_MODULE(EncoderAttention);

class EncoderLayerImpl : public torch::nn::Module {
 public:
  explicit EncoderLayerImpl(const EncoderLayerOptions& options);
  // hidden [B, L, D] → [B, L, D]; masks as EncoderAttention::forward
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& key_mask = {},
                     const at::Tensor& attn_mask = {});

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  EncoderAttention self_attn_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  bool gelu_tanh_;
};
TORCH_MODULE(EncoderLayer);

// hidden [B, L, D] through every EncoderLayer of `layers` in order → [B, L, D]; layers 0, k,
// 2k, ... are activation-checkpointed (k = checkpoint_every; 0: none). key_mask [B, L] and
// attn_mask [L, L] (bool, true = may attend) apply in every layer when defined.
at::Tensor run_encoder_layers(torch::nn::ModuleList& layers, at::Tensor hidden,
                              int64_t checkpoint_every, const at::Tensor& key_mask = {},
                              const at::Tensor& attn_mask = {});

}  // namespace omnirm::model
